// FaceFind's own declarations of the part of the ONNX Runtime C API it calls.
//
// ONNX Runtime ships no headers in its PyPI wheel, so we declare what we use. The OrtApi struct is a table of
// function pointers whose order never changes (new entries are only appended), so entries we never call are
// declared as untyped padding slots. Indices were checked against onnxruntime_c_api.h (1.32) and are noted
// next to each entry. All pointers here are opaque; the library is loaded with dlopen (see ffort_load).
#ifndef FACEFIND_ORT_API_H
#define FACEFIND_ORT_API_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct OrtEnv OrtEnv;
typedef struct OrtStatus OrtStatus;
typedef struct OrtMemoryInfo OrtMemoryInfo;
typedef struct OrtSession OrtSession;
typedef struct OrtValue OrtValue;
typedef struct OrtRunOptions OrtRunOptions;
typedef struct OrtTypeInfo OrtTypeInfo;
typedef struct OrtTensorTypeAndShapeInfo OrtTensorTypeAndShapeInfo;
typedef struct OrtSessionOptions OrtSessionOptions;
typedef struct OrtAllocator OrtAllocator;
typedef struct OrtCUDAProviderOptionsV2 OrtCUDAProviderOptionsV2;
typedef struct OrtArenaCfg OrtArenaCfg;

/// The CUDA provider's options as SessionOptionsAppendExecutionProvider_CUDA (entry 152) reads them. The
/// struct only grew at its end across releases; these are the fields of 1.16 and later. Zero means default
/// for every field but gpu_mem_limit (SIZE_MAX for no limit) and do_copy_in_default_stream (1).
typedef struct OrtCUDAProviderOptions {
    int device_id;
    int cudnn_conv_algo_search;           /* 0 exhaustive, 1 heuristic, 2 default */
    size_t gpu_mem_limit;
    int arena_extend_strategy;
    int do_copy_in_default_stream;
    int has_user_compute_stream;
    void *user_compute_stream;
    OrtArenaCfg *default_memory_arena_cfg;
    int tunable_op_enable;
    int tunable_op_tuning_enable;
    int tunable_op_max_tuning_duration_ms;
} OrtCUDAProviderOptions;

typedef enum OrtLoggingLevel {
    ORT_LOGGING_LEVEL_VERBOSE = 0,
    ORT_LOGGING_LEVEL_INFO = 1,
    ORT_LOGGING_LEVEL_WARNING = 2,
    ORT_LOGGING_LEVEL_ERROR = 3,
    ORT_LOGGING_LEVEL_FATAL = 4,
} OrtLoggingLevel;

typedef enum GraphOptimizationLevel {
    ORT_DISABLE_ALL = 0,
    ORT_ENABLE_BASIC = 1,
    ORT_ENABLE_EXTENDED = 2,
    ORT_ENABLE_ALL = 99,
} GraphOptimizationLevel;

typedef enum ONNXTensorElementDataType {
    ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED = 0,
    ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT = 1,
    ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8 = 2,
    ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8 = 3,
    ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32 = 6,
    ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64 = 7,
} ONNXTensorElementDataType;

typedef enum OrtAllocatorType {
    OrtInvalidAllocator = -1,
    OrtDeviceAllocator = 0,
    OrtArenaAllocator = 1,
} OrtAllocatorType;

typedef enum OrtMemType {
    OrtMemTypeCPUInput = -2,
    OrtMemTypeCPUOutput = -1,
    OrtMemTypeDefault = 0,
} OrtMemType;

typedef void *OrtUnusedEntry;

#define ORT_STATUS OrtStatus *

typedef struct OrtApi {
    OrtUnusedEntry CreateStatus;                                                   /* 0 */
    int (*GetErrorCode)(const OrtStatus *status);                                  /* 1 */
    const char *(*GetErrorMessage)(const OrtStatus *status);                       /* 2 */
    ORT_STATUS (*CreateEnv)(OrtLoggingLevel level, const char *logid, OrtEnv **out); /* 3 */
    OrtUnusedEntry CreateEnvWithCustomLogger;                                      /* 4 */
    OrtUnusedEntry EnableTelemetryEvents;                                          /* 5 */
    ORT_STATUS (*DisableTelemetryEvents)(const OrtEnv *env);                       /* 6 */
    ORT_STATUS (*CreateSession)(const OrtEnv *env, const char *model_path,
                                const OrtSessionOptions *options, OrtSession **out); /* 7 */
    ORT_STATUS (*CreateSessionFromArray)(const OrtEnv *env, const void *model_data, size_t model_data_length,
                                         const OrtSessionOptions *options, OrtSession **out); /* 8 */
    ORT_STATUS (*Run)(OrtSession *session, const OrtRunOptions *run_options,
                      const char *const *input_names, const OrtValue *const *inputs, size_t input_len,
                      const char *const *output_names, size_t output_names_len, OrtValue **outputs); /* 9 */
    ORT_STATUS (*CreateSessionOptions)(OrtSessionOptions **options);               /* 10 */
    OrtUnusedEntry pad11_22[12];                                                   /* 11 - 22 */
    ORT_STATUS (*SetSessionGraphOptimizationLevel)(OrtSessionOptions *options,
                                                   GraphOptimizationLevel level); /* 23 */
    ORT_STATUS (*SetIntraOpNumThreads)(OrtSessionOptions *options, int threads);   /* 24 */
    ORT_STATUS (*SetInterOpNumThreads)(OrtSessionOptions *options, int threads);   /* 25 */
    OrtUnusedEntry pad26_29[4];                                                    /* 26 - 29 */
    ORT_STATUS (*SessionGetInputCount)(const OrtSession *session, size_t *out);    /* 30 */
    ORT_STATUS (*SessionGetOutputCount)(const OrtSession *session, size_t *out);   /* 31 */
    OrtUnusedEntry SessionGetOverridableInitializerCount;                          /* 32 */
    ORT_STATUS (*SessionGetInputTypeInfo)(const OrtSession *session, size_t index,
                                          OrtTypeInfo **type_info);                /* 33 */
    ORT_STATUS (*SessionGetOutputTypeInfo)(const OrtSession *session, size_t index,
                                           OrtTypeInfo **type_info);               /* 34 */
    OrtUnusedEntry SessionGetOverridableInitializerTypeInfo;                       /* 35 */
    ORT_STATUS (*SessionGetInputName)(const OrtSession *session, size_t index,
                                      OrtAllocator *allocator, char **value);      /* 36 */
    ORT_STATUS (*SessionGetOutputName)(const OrtSession *session, size_t index,
                                       OrtAllocator *allocator, char **value);     /* 37 */
    OrtUnusedEntry pad38_48[11];                                                   /* 38 - 48 */
    ORT_STATUS (*CreateTensorWithDataAsOrtValue)(const OrtMemoryInfo *info, void *p_data, size_t p_data_len,
                                                 const int64_t *shape, size_t shape_len,
                                                 ONNXTensorElementDataType type, OrtValue **out); /* 49 */
    OrtUnusedEntry IsTensor;                                                       /* 50 */
    ORT_STATUS (*GetTensorMutableData)(OrtValue *value, void **out);               /* 51 */
    OrtUnusedEntry pad52_54[3];                                                    /* 52 - 54 */
    ORT_STATUS (*CastTypeInfoToTensorInfo)(const OrtTypeInfo *type_info,
                                           const OrtTensorTypeAndShapeInfo **out); /* 55 */
    OrtUnusedEntry pad56_59[4];                                                    /* 56 - 59 */
    ORT_STATUS (*GetTensorElementType)(const OrtTensorTypeAndShapeInfo *info,
                                       ONNXTensorElementDataType *out);            /* 60 */
    ORT_STATUS (*GetDimensionsCount)(const OrtTensorTypeAndShapeInfo *info, size_t *out); /* 61 */
    ORT_STATUS (*GetDimensions)(const OrtTensorTypeAndShapeInfo *info, int64_t *dim_values,
                                size_t dim_values_length);                         /* 62 */
    OrtUnusedEntry pad63_64[2];                                                    /* 63 - 64 */
    ORT_STATUS (*GetTensorTypeAndShape)(const OrtValue *value, OrtTensorTypeAndShapeInfo **out); /* 65 */
    OrtUnusedEntry pad66_68[3];                                                    /* 66 - 68 */
    ORT_STATUS (*CreateCpuMemoryInfo)(OrtAllocatorType type, OrtMemType mem_type, OrtMemoryInfo **out); /* 69 */
    OrtUnusedEntry pad70_75[6];                                                    /* 70 - 75 */
    ORT_STATUS (*AllocatorFree)(OrtAllocator *allocator, void *p);                 /* 76 */
    OrtUnusedEntry AllocatorGetInfo;                                               /* 77 */
    ORT_STATUS (*GetAllocatorWithDefaultOptions)(OrtAllocator **out);              /* 78 */
    OrtUnusedEntry pad79_91[13];                                                   /* 79 - 91 */
    void (*ReleaseEnv)(OrtEnv *input);                                             /* 92 */
    void (*ReleaseStatus)(OrtStatus *input);                                       /* 93 */
    void (*ReleaseMemoryInfo)(OrtMemoryInfo *input);                               /* 94 */
    void (*ReleaseSession)(OrtSession *input);                                     /* 95 */
    void (*ReleaseValue)(OrtValue *input);                                         /* 96 */
    OrtUnusedEntry ReleaseRunOptions;                                              /* 97 */
    void (*ReleaseTypeInfo)(OrtTypeInfo *input);                                   /* 98 */
    void (*ReleaseTensorTypeAndShapeInfo)(OrtTensorTypeAndShapeInfo *input);       /* 99 */
    void (*ReleaseSessionOptions)(OrtSessionOptions *input);                       /* 100 */
    OrtUnusedEntry pad101_124[24];                                                 /* 101 - 124 */
    ORT_STATUS (*GetAvailableProviders)(char ***out_ptr, int *provider_length);    /* 125 */
    ORT_STATUS (*ReleaseAvailableProviders)(char **ptr, int providers_length);     /* 126 */
    OrtUnusedEntry pad127_129[3];                                                  /* 127 - 129 */
    ORT_STATUS (*AddSessionConfigEntry)(OrtSessionOptions *options, const char *config_key,
                                        const char *config_value);                 /* 130 */
    OrtUnusedEntry pad131_151[21];                                                 /* 131 - 151 */
    ORT_STATUS (*SessionOptionsAppendExecutionProvider_CUDA)(OrtSessionOptions *options,
                                                             const OrtCUDAProviderOptions *cuda_options); /* 152 */
} OrtApi;

typedef struct OrtApiBase {
    const OrtApi *(*GetApi)(uint32_t version);
    const char *(*GetVersionString)(void);
} OrtApiBase;

/// The API version FaceFind asks for: the oldest that has every entry declared above (ONNX Runtime 1.16).
#define FFORT_API_VERSION 16

/// Loads the library at `path` with dlopen and returns its OrtApi table, or NULL with a message in `error`.
/// `version` receives the library's version string. Safe to call more than once; each call dlopens again
/// (the loader reference-counts), so callers keep the first result.
const OrtApi *ffort_load(const char *path, const char **version, char *error, size_t error_len);

#ifdef __cplusplus
}
#endif
#endif
