// Shared by Tertulia's native modules: the data and length of a JavaScript typed array of one element type, and the
// data of an external handle argument.
#ifndef TERTULIA_NAPI_TYPED_H
#define TERTULIA_NAPI_TYPED_H
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>

/** true and its data/length (in elements) when v is a typed array of type `want`. */
static inline bool typed(napi_env env, napi_value v, napi_typedarray_type want, void** data, size_t* length) {
  bool is = false;
  napi_typedarray_type t;
  napi_value ab;
  size_t off;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return false;
  if (napi_get_typedarray_info(env, v, &t, length, data, &ab, &off) != napi_ok) return false;
  return t == want;
}

/** The data of the external that is a function's only argument (a handle a module made); NULL after throwing `usage`. */
static inline void* external_arg(napi_env env, napi_callback_info info, const char* usage) {
  size_t argc = 1;
  napi_value a[1];
  napi_valuetype t = napi_undefined;
  void* data = NULL;
  if (napi_get_cb_info(env, info, &argc, a, NULL, NULL) != napi_ok || argc < 1 || napi_typeof(env, a[0], &t) != napi_ok ||
      t != napi_external || napi_get_value_external(env, a[0], &data) != napi_ok || data == NULL) {
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  return data;
}

/** The data of an ArrayBuffer of at least `bytes` bytes, 8-byte aligned (a struct's layout); NULL when it is not one. */
static inline uint8_t* aligned_buffer(napi_env env, napi_value v, size_t bytes) {
  bool is = false;
  void* data = NULL;
  size_t length = 0;
  if (napi_is_arraybuffer(env, v, &is) != napi_ok || !is) return NULL;
  if (napi_get_arraybuffer_info(env, v, &data, &length) != napi_ok || length < bytes || ((uintptr_t)data & 7) != 0) return NULL;
  return (uint8_t*)data;
}

#endif
