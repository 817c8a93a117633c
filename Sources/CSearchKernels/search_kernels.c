#include "search_kernels.h"

#include <math.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define FF_X86 1
#define FF_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,f16c,fma")))
#define FF_F16C __attribute__((target("f16c,avx")))
#endif

/* ---------------------------------------------------------------------------------------------------------
 * Portable loops: the reference the accelerated kernels are tested against, and the path on other CPUs.
 * ------------------------------------------------------------------------------------------------------- */

static float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exponent = (h >> 10) & 0x1f;
    uint32_t mantissa = h & 0x3ff;
    uint32_t bits;
    if (exponent == 0) {
        if (mantissa == 0) {
            bits = sign;
        } else { /* subnormal: normalise */
            exponent = 127 - 15 + 1;
            while ((mantissa & 0x400) == 0) { mantissa <<= 1; exponent--; }
            mantissa &= 0x3ff;
            bits = sign | (exponent << 23) | (mantissa << 13);
        }
    } else if (exponent == 31) {
        bits = sign | 0x7f800000u | (mantissa << 13);
    } else {
        bits = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static uint16_t float_to_half(float f) {
    /* Round to nearest even; embedding values are far from the overflow and subnormal range, but both are
     * handled so that the portable path matches F16C. */
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000;
    int32_t exponent = (int32_t)((x >> 23) & 0xff) - 127 + 15;
    uint32_t mantissa = x & 0x7fffff;
    if (((x >> 23) & 0xff) == 0xff) return (uint16_t)(sign | 0x7c00 | (mantissa ? 0x200 : 0));
    if (exponent >= 31) return (uint16_t)(sign | 0x7c00);
    if (exponent <= 0) {
        if (exponent < -10) return (uint16_t)sign;
        mantissa |= 0x800000;
        uint32_t shift = (uint32_t)(14 - exponent);
        uint32_t half = mantissa >> shift;
        uint32_t rest = mantissa & ((1u << shift) - 1);
        uint32_t midpoint = 1u << (shift - 1);
        if (rest > midpoint || (rest == midpoint && (half & 1))) half++;
        return (uint16_t)(sign | half);
    }
    uint32_t half = sign | ((uint32_t)exponent << 10) | (mantissa >> 13);
    uint32_t rest = mantissa & 0x1fff;
    if (rest > 0x1000 || (rest == 0x1000 && (half & 1))) half++;
    return (uint16_t)half;
}

static inline float finish(float dot, float alpha, const float *scale, const float *bias, int64_t row) {
    float s = alpha * dot * (scale ? scale[row] : 1.0f);
    return bias ? s + bias[row] : s;
}

/* float32 and float16 share their loops; only the load of a stored value differs. */
#define FF_LOAD_F32(p) (*(p))
#define FF_LOAD_F16(p) half_to_float(*(p))

#define FF_FLOAT_PORTABLE(name, elem_t, LOAD)                                                                   \
    static void name(const elem_t *panels, int panel_count, int dp, const float *queries, int nq, float alpha,   \
                     const float *scale, const float *bias, float *out, int ldo) {                             \
        for (int q = 0; q < nq; q++) {                                                                          \
            const float *query = queries + (int64_t)q * dp;                                                     \
            for (int p = 0; p < panel_count; p++) {                                                             \
                const elem_t *panel = panels + (int64_t)p * 16 * dp;                                            \
                float acc[16] = {0};                                                                            \
                for (int k = 0; k < dp; k++)                                                                    \
                    for (int r = 0; r < 16; r++) acc[r] += LOAD(panel + k * 16 + r) * query[k];                 \
                for (int r = 0; r < 16; r++)                                                                    \
                    out[(int64_t)q * ldo + p * 16 + r] = finish(acc[r], alpha, scale, bias, (int64_t)p * 16 + r); \
            }                                                                                                   \
        }                                                                                                       \
    }

FF_FLOAT_PORTABLE(scores_f32_portable, float, FF_LOAD_F32)
FF_FLOAT_PORTABLE(scores_f16_portable, uint16_t, FF_LOAD_F16)

static void scores_i8_portable(const uint8_t *panels, int panel_count, int dp, const int8_t *queries,
                               const int32_t *qcorr, const float *qscale, int nq, float alpha, const float *scale,
                               const float *bias, float *out, int ldo) {
    for (int q = 0; q < nq; q++) {
        const int8_t *query = queries + (int64_t)q * dp;
        for (int p = 0; p < panel_count; p++) {
            const uint8_t *panel = panels + (int64_t)p * 16 * dp;
            int32_t acc[16] = {0};
            for (int k4 = 0; k4 < dp / 4; k4++)
                for (int r = 0; r < 16; r++)
                    for (int j = 0; j < 4; j++)
                        acc[r] += (int32_t)panel[k4 * 64 + r * 4 + j] * (int32_t)query[k4 * 4 + j];
            for (int r = 0; r < 16; r++) {
                float dot = (float)(acc[r] - qcorr[q]) * qscale[q];
                out[(int64_t)q * ldo + p * 16 + r] = finish(dot, alpha, scale, bias, (int64_t)p * 16 + r);
            }
        }
    }
}

/* ---------------------------------------------------------------------------------------------------------
 * AVX-512 kernels: two panels (32 rows) against four queries per step, eight independent accumulators.
 * ------------------------------------------------------------------------------------------------------- */
#ifdef FF_X86

FF_AVX512 static inline void store_scores(__m512 acc, int q, int p, float alpha, const float *scale,
                                          const float *bias, float *out, int ldo) {
    __m512 s = _mm512_mul_ps(acc, _mm512_set1_ps(alpha));
    if (scale) s = _mm512_mul_ps(s, _mm512_loadu_ps(scale + (int64_t)p * 16));
    if (bias) s = _mm512_add_ps(s, _mm512_loadu_ps(bias + (int64_t)p * 16));
    _mm512_storeu_ps(out + (int64_t)q * ldo + p * 16, s);
}

#define FF_LOAD512_F32(p) _mm512_loadu_ps(p)
#define FF_LOAD512_F16(p) _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(p)))

/* Four queries against two panels: eight independent accumulators. */
#define FF_FLOAT_AVX512(name, elem_t, LOAD)                                                                     \
    FF_AVX512 static void name(const elem_t *panels, int panel_count, int dp, const float *queries, int nq,       \
                               float alpha, const float *scale, const float *bias, float *out, int ldo) {       \
        for (int p = 0; p < panel_count; p += 2) {                                                              \
            const elem_t *a = panels + (int64_t)p * 16 * dp;                                                    \
            const elem_t *b = a + 16 * dp;                                                                      \
            for (int q = 0; q < nq; q += 4) {                                                                   \
                const float *q0 = queries + (int64_t)q * dp, *q1 = q0 + dp, *q2 = q1 + dp, *q3 = q2 + dp;       \
                __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0; \
                for (int k = 0; k < dp; k++) {                                                                  \
                    __m512 ga = LOAD(a + k * 16), gb = LOAD(b + k * 16);                                        \
                    __m512 x0 = _mm512_set1_ps(q0[k]), x1 = _mm512_set1_ps(q1[k]);                              \
                    __m512 x2 = _mm512_set1_ps(q2[k]), x3 = _mm512_set1_ps(q3[k]);                              \
                    a0 = _mm512_fmadd_ps(ga, x0, a0); b0 = _mm512_fmadd_ps(gb, x0, b0);                         \
                    a1 = _mm512_fmadd_ps(ga, x1, a1); b1 = _mm512_fmadd_ps(gb, x1, b1);                         \
                    a2 = _mm512_fmadd_ps(ga, x2, a2); b2 = _mm512_fmadd_ps(gb, x2, b2);                         \
                    a3 = _mm512_fmadd_ps(ga, x3, a3); b3 = _mm512_fmadd_ps(gb, x3, b3);                         \
                }                                                                                               \
                store_scores(a0, q, p, alpha, scale, bias, out, ldo);                                           \
                store_scores(b0, q, p + 1, alpha, scale, bias, out, ldo);                                       \
                store_scores(a1, q + 1, p, alpha, scale, bias, out, ldo);                                       \
                store_scores(b1, q + 1, p + 1, alpha, scale, bias, out, ldo);                                   \
                store_scores(a2, q + 2, p, alpha, scale, bias, out, ldo);                                       \
                store_scores(b2, q + 2, p + 1, alpha, scale, bias, out, ldo);                                   \
                store_scores(a3, q + 3, p, alpha, scale, bias, out, ldo);                                       \
                store_scores(b3, q + 3, p + 1, alpha, scale, bias, out, ldo);                                   \
            }                                                                                                   \
        }                                                                                                       \
    }

FF_FLOAT_AVX512(scores_f32_avx512, float, FF_LOAD512_F32)
FF_FLOAT_AVX512(scores_f16_avx512, uint16_t, FF_LOAD512_F16)

FF_AVX512 static inline void store_i8(__m512i acc, int32_t corr, float qs, int q, int p, float alpha,
                                      const float *scale, const float *bias, float *out, int ldo) {
    __m512 dot = _mm512_cvtepi32_ps(_mm512_sub_epi32(acc, _mm512_set1_epi32(corr)));
    store_scores(_mm512_mul_ps(dot, _mm512_set1_ps(qs)), q, p, alpha, scale, bias, out, ldo);
}

FF_AVX512 static void scores_i8_avx512(const uint8_t *panels, int panel_count, int dp, const int8_t *queries,
                                       const int32_t *qcorr, const float *qscale, int nq, float alpha,
                                       const float *scale, const float *bias, float *out, int ldo) {
    const int groups = dp / 4;
    for (int p = 0; p < panel_count; p += 2) {
        const uint8_t *a = panels + (int64_t)p * 16 * dp;
        const uint8_t *b = a + 16 * dp;
        for (int q = 0; q < nq; q += 4) {
            const int32_t *q0 = (const int32_t *)(queries + (int64_t)q * dp);
            const int32_t *q1 = q0 + groups, *q2 = q1 + groups, *q3 = q2 + groups;
            __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
            for (int g = 0; g < groups; g++) {
                __m512i ga = _mm512_loadu_si512(a + g * 64), gb = _mm512_loadu_si512(b + g * 64);
                __m512i x0 = _mm512_set1_epi32(q0[g]), x1 = _mm512_set1_epi32(q1[g]);
                __m512i x2 = _mm512_set1_epi32(q2[g]), x3 = _mm512_set1_epi32(q3[g]);
                a0 = _mm512_dpbusd_epi32(a0, ga, x0); b0 = _mm512_dpbusd_epi32(b0, gb, x0);
                a1 = _mm512_dpbusd_epi32(a1, ga, x1); b1 = _mm512_dpbusd_epi32(b1, gb, x1);
                a2 = _mm512_dpbusd_epi32(a2, ga, x2); b2 = _mm512_dpbusd_epi32(b2, gb, x2);
                a3 = _mm512_dpbusd_epi32(a3, ga, x3); b3 = _mm512_dpbusd_epi32(b3, gb, x3);
            }
            store_i8(a0, qcorr[q], qscale[q], q, p, alpha, scale, bias, out, ldo);
            store_i8(b0, qcorr[q], qscale[q], q, p + 1, alpha, scale, bias, out, ldo);
            store_i8(a1, qcorr[q + 1], qscale[q + 1], q + 1, p, alpha, scale, bias, out, ldo);
            store_i8(b1, qcorr[q + 1], qscale[q + 1], q + 1, p + 1, alpha, scale, bias, out, ldo);
            store_i8(a2, qcorr[q + 2], qscale[q + 2], q + 2, p, alpha, scale, bias, out, ldo);
            store_i8(b2, qcorr[q + 2], qscale[q + 2], q + 2, p + 1, alpha, scale, bias, out, ldo);
            store_i8(a3, qcorr[q + 3], qscale[q + 3], q + 3, p, alpha, scale, bias, out, ldo);
            store_i8(b3, qcorr[q + 3], qscale[q + 3], q + 3, p + 1, alpha, scale, bias, out, ldo);
        }
    }
}

/* One query against two panels at a time, each dot product split over two accumulators (even and odd
 * steps) so that four independent chains hide the FMA latency: the single-query path, which is bound by
 * memory bandwidth and must not waste three quarters of its work on padding queries. */
#define FF_FLOAT_AVX512_1Q(name, elem_t, LOAD)                                                                  \
    FF_AVX512 static void name(const elem_t *panels, int panel_count, int dp, const float *query, int q,         \
                               float alpha, const float *scale, const float *bias, float *out, int ldo) {       \
        for (int p = 0; p < panel_count; p += 2) {                                                              \
            const elem_t *a = panels + (int64_t)p * 16 * dp;                                                    \
            const elem_t *b = a + 16 * dp;                                                                      \
            __m512 a0 = _mm512_setzero_ps(), a1 = a0, b0 = a0, b1 = a0;                                         \
            for (int k = 0; k < dp; k += 2) {                                                                   \
                __m512 x0 = _mm512_set1_ps(query[k]), x1 = _mm512_set1_ps(query[k + 1]);                        \
                a0 = _mm512_fmadd_ps(LOAD(a + k * 16), x0, a0);                                                 \
                b0 = _mm512_fmadd_ps(LOAD(b + k * 16), x0, b0);                                                 \
                a1 = _mm512_fmadd_ps(LOAD(a + k * 16 + 16), x1, a1);                                            \
                b1 = _mm512_fmadd_ps(LOAD(b + k * 16 + 16), x1, b1);                                            \
            }                                                                                                   \
            store_scores(_mm512_add_ps(a0, a1), q, p, alpha, scale, bias, out, ldo);                            \
            store_scores(_mm512_add_ps(b0, b1), q, p + 1, alpha, scale, bias, out, ldo);                        \
        }                                                                                                       \
    }

FF_FLOAT_AVX512_1Q(scores_f32_avx512_1q, float, FF_LOAD512_F32)
FF_FLOAT_AVX512_1Q(scores_f16_avx512_1q, uint16_t, FF_LOAD512_F16)


FF_AVX512 static void scores_i8_avx512_1q(const uint8_t *panels, int panel_count, int dp, const int8_t *query,
                                          int32_t corr, float qs, int q, float alpha, const float *scale,
                                          const float *bias, float *out, int ldo) {
    const int groups = dp / 4;
    const int32_t *x = (const int32_t *)query;
    for (int p = 0; p < panel_count; p += 2) {
        const uint8_t *a = panels + (int64_t)p * 16 * dp;
        const uint8_t *b = a + 16 * dp;
        __m512i a0 = _mm512_setzero_si512(), a1 = a0, b0 = a0, b1 = a0;
        for (int g = 0; g < groups; g += 2) {
            __m512i x0 = _mm512_set1_epi32(x[g]), x1 = _mm512_set1_epi32(x[g + 1]);
            a0 = _mm512_dpbusd_epi32(a0, _mm512_loadu_si512(a + g * 64), x0);
            b0 = _mm512_dpbusd_epi32(b0, _mm512_loadu_si512(b + g * 64), x0);
            a1 = _mm512_dpbusd_epi32(a1, _mm512_loadu_si512(a + g * 64 + 64), x1);
            b1 = _mm512_dpbusd_epi32(b1, _mm512_loadu_si512(b + g * 64 + 64), x1);
        }
        store_i8(_mm512_add_epi32(a0, a1), corr, qs, q, p, alpha, scale, bias, out, ldo);
        store_i8(_mm512_add_epi32(b0, b1), corr, qs, q, p + 1, alpha, scale, bias, out, ldo);
    }
}

FF_AVX512 static int topk_skip_avx512(const float *scores, int n, int i, float threshold) {
    /* Index of the first block of 16 from i with a score above threshold (or n rounded down). */
    __m512 t = _mm512_set1_ps(threshold);
    while (i + 16 <= n) {
        if (_mm512_cmp_ps_mask(_mm512_loadu_ps(scores + i), t, _CMP_GT_OQ)) return i;
        i += 16;
    }
    return i;
}

FF_F16C static void f32_to_f16_f16c(const float *in, uint16_t *out, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(out + i), _mm256_cvtps_ph(_mm256_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) out[i] = float_to_half(in[i]);
}

FF_F16C static void f16_to_f32_f16c(const uint16_t *in, float *out, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(in + i))));
    for (; i < n; i++) out[i] = half_to_float(in[i]);
}

static int accelerated = -1;

int ff_search_kernels_accelerated(void) {
    if (accelerated < 0) {
        __builtin_cpu_init();
        accelerated = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
            && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni")
            && __builtin_cpu_supports("f16c") && __builtin_cpu_supports("fma");
    }
    return accelerated;
}

#else
int ff_search_kernels_accelerated(void) { return 0; }
#endif

/* Tests force the portable path through this switch to compare both on one machine. */
static int ff_search_kernels_force_portable = 0;

void ff_search_kernels_set_portable(int portable) { ff_search_kernels_force_portable = portable; }

static int use_avx512(void) { return !ff_search_kernels_force_portable && ff_search_kernels_accelerated(); }

/* Public entry points for float32 and float16: four queries at a time, the rest one by one. */
#ifdef FF_X86
#define FF_FLOAT_ACCELERATED(kernel4, kernel1)                                                                  \
    if (use_avx512()) {                                                                                         \
        int whole = nq / 4 * 4;                                                                                 \
        if (whole) kernel4(panels, panel_count, dp, queries, whole, alpha, scale, bias, out, ldo);              \
        for (int q = whole; q < nq; q++)                                                                        \
            kernel1(panels, panel_count, dp, queries + (int64_t)q * dp, q, alpha, scale, bias, out, ldo);       \
        return;                                                                                                 \
    }
#else
#define FF_FLOAT_ACCELERATED(kernel4, kernel1)
#endif

#define FF_FLOAT_ENTRY(name, elem_t, kernel4, kernel1, portable)                                                \
    void name(const elem_t *panels, int panel_count, int dp, const float *queries, int nq, float alpha,          \
              const float *scale, const float *bias, float *out, int ldo) {                                     \
        FF_FLOAT_ACCELERATED(kernel4, kernel1)                                                                  \
        portable(panels, panel_count, dp, queries, nq, alpha, scale, bias, out, ldo);                           \
    }

FF_FLOAT_ENTRY(ff_scores_f32, float, scores_f32_avx512, scores_f32_avx512_1q, scores_f32_portable)
FF_FLOAT_ENTRY(ff_scores_f16, uint16_t, scores_f16_avx512, scores_f16_avx512_1q, scores_f16_portable)

void ff_scores_i8(const uint8_t *panels, int panel_count, int dp, const int8_t *queries, const int32_t *qcorr,
                  const float *qscale, int nq, float alpha, const float *scale, const float *bias, float *out,
                  int ldo) {
#ifdef FF_X86
    if (use_avx512()) {
        int whole = nq / 4 * 4;
        if (whole) scores_i8_avx512(panels, panel_count, dp, queries, qcorr, qscale, whole, alpha, scale, bias, out, ldo);
        for (int q = whole; q < nq; q++)
            scores_i8_avx512_1q(panels, panel_count, dp, queries + (int64_t)q * dp, qcorr[q], qscale[q], q, alpha,
                                scale, bias, out, ldo);
        return;
    }
#endif
    scores_i8_portable(panels, panel_count, dp, queries, qcorr, qscale, nq, alpha, scale, bias, out, ldo);
}

static void sift_down(float *s, int64_t *r, int count, int i) {
    for (;;) {
        int l = 2 * i + 1, m = i;
        if (l < count && (s[l] < s[m] || (s[l] == s[m] && r[l] > r[m]))) m = l;
        if (l + 1 < count && (s[l + 1] < s[m] || (s[l + 1] == s[m] && r[l + 1] > r[m]))) m = l + 1;
        if (m == i) return;
        float ts = s[i]; s[i] = s[m]; s[m] = ts;
        int64_t tr = r[i]; r[i] = r[m]; r[m] = tr;
        i = m;
    }
}

static void sift_up(float *s, int64_t *r, int i) {
    while (i > 0) {
        int parent = (i - 1) / 2;
        /* The root is the worst: lower score, or on ties the higher row (lower rows win ties). */
        if (s[i] < s[parent] || (s[i] == s[parent] && r[i] > r[parent])) {
            float ts = s[i]; s[i] = s[parent]; s[parent] = ts;
            int64_t tr = r[i]; r[i] = r[parent]; r[parent] = tr;
            i = parent;
        } else {
            return;
        }
    }
}

void ff_topk_update(const float *scores, int n, int64_t first_row, int k, float *heap_scores, int64_t *heap_rows,
                    int *count) {
    if (k <= 0) return;
    int i = 0;
    while (i < n) {
        if (*count == k) {
#ifdef FF_X86
            if (use_avx512()) {
                int next = topk_skip_avx512(scores, n, i, heap_scores[0]);
                if (next >= n) return;
                int end = next + 16 <= n ? next + 16 : n;
                for (int j = next; j < end; j++) {
                    float s = scores[j];
                    if (s > heap_scores[0]) {
                        heap_scores[0] = s; heap_rows[0] = first_row + j;
                        sift_down(heap_scores, heap_rows, k, 0);
                    }
                }
                i = end;
                continue;
            }
#endif
            float s = scores[i];
            if (s > heap_scores[0]) {
                heap_scores[0] = s; heap_rows[0] = first_row + i;
                sift_down(heap_scores, heap_rows, k, 0);
            }
            i++;
        } else {
            float s = scores[i];
            if (!isnan(s) && s != -INFINITY) {
                heap_scores[*count] = s; heap_rows[*count] = first_row + i;
                sift_up(heap_scores, heap_rows, *count);
                (*count)++;
            }
            i++;
        }
    }
}

void ff_f32_to_f16(const float *in, uint16_t *out, int n) {
#ifdef FF_X86
    if (!ff_search_kernels_force_portable && __builtin_cpu_supports("f16c")) { f32_to_f16_f16c(in, out, n); return; }
#endif
    for (int i = 0; i < n; i++) out[i] = float_to_half(in[i]);
}

void ff_f16_to_f32(const uint16_t *in, float *out, int n) {
#ifdef FF_X86
    if (!ff_search_kernels_force_portable && __builtin_cpu_supports("f16c")) { f16_to_f32_f16c(in, out, n); return; }
#endif
    for (int i = 0; i < n; i++) out[i] = half_to_float(in[i]);
}
