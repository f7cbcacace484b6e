// Shared by Tertulia's native modules: the data and length of a JavaScript typed array of one element type.
#ifndef TERTULIA_NAPI_TYPED_H
#define TERTULIA_NAPI_TYPED_H
#include <node_api.h>
#include <stdbool.h>

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

#endif
