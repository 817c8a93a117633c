#include "ort_api.h"

#include <dlfcn.h>
#include <stdio.h>

const OrtApi *ffort_load(const char *path, const char **version, char *error, size_t error_len) {
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        snprintf(error, error_len, "%s", dlerror());
        return NULL;
    }
    typedef const OrtApiBase *(*GetApiBaseFn)(void);
    GetApiBaseFn get_base = (GetApiBaseFn)dlsym(handle, "OrtGetApiBase");
    if (get_base == NULL) {
        snprintf(error, error_len, "%s has no symbol OrtGetApiBase: not an ONNX Runtime library", path);
        dlclose(handle);
        return NULL;
    }
    const OrtApiBase *base = get_base();
    const OrtApi *api = base->GetApi(FFORT_API_VERSION);
    if (api == NULL) {
        snprintf(error, error_len, "ONNX Runtime %s at %s does not provide API version %d",
                 base->GetVersionString(), path, FFORT_API_VERSION);
        dlclose(handle);
        return NULL;
    }
    if (version != NULL) *version = base->GetVersionString();
    return api;
}
