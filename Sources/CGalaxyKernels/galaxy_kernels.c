#include "galaxy_kernels.h"

#include <stdlib.h>
#include <string.h>

// Same comparison as Swift's max(a, b): b when b >= a, else a.
static inline float larger(float a, float b) { return b >= a ? b : a; }

// Aᵀ m A for one tile whose 16 values lie `ms` apart: its 2x2 output block, row by row. Inlined
// into each instruction set's loops, which vectorise it across tiles.
static inline void winograd_output_tile(const float *p, ptrdiff_t ms, float block[4]) {
    float s0[4], s1[4];
    for (int j = 0; j < 4; j++) {
        const float a = p[j * ms], b = p[(4 + j) * ms], c = p[(8 + j) * ms], d = p[(12 + j) * ms];
        s0[j] = a + b + c;
        s1[j] = b - c - d;
    }
    block[0] = s0[0] + s0[1] + s0[2];
    block[1] = s0[1] - s0[2] - s0[3];
    block[2] = s1[0] + s1[1] + s1[2];
    block[3] = s1[1] - s1[2] - s1[3];
}

// Bᵀ d B for one tile: d[i][j] its 4x4 input, out[k] its 16 values. A macro so that the plain
// loops (which the compiler vectorises across tiles) and the AVX-512 intrinsics (16 tiles per
// vector: clang's vector types take + and -) compute it with the same operations in the same
// order, hence the same bits.
#define GALAXY_WINOGRAD_INPUT_TILE(d, out)                                                                 \
    do {                                                                                                   \
        __typeof__((d)[0][0]) t_[4][4];                                                                    \
        for (int j_ = 0; j_ < 4; j_++) {                                                                   \
            t_[0][j_] = (d)[0][j_] - (d)[2][j_];                                                           \
            t_[1][j_] = (d)[1][j_] + (d)[2][j_];                                                           \
            t_[2][j_] = (d)[2][j_] - (d)[1][j_];                                                           \
            t_[3][j_] = (d)[1][j_] - (d)[3][j_];                                                           \
        }                                                                                                  \
        for (int i_ = 0; i_ < 4; i_++) {                                                                   \
            (out)[4 * i_] = t_[i_][0] - t_[i_][2];                                                         \
            (out)[4 * i_ + 1] = t_[i_][1] + t_[i_][2];                                                     \
            (out)[4 * i_ + 2] = t_[i_][2] - t_[i_][1];                                                     \
            (out)[4 * i_ + 3] = t_[i_][1] - t_[i_][3];                                                     \
        }                                                                                                  \
    } while (0)

// GEMM blocking shared by every path: a B panel of GALAXY_GEMM_KC rows stays in L1, an A block of
// GALAXY_GEMM_MC x GALAXY_GEMM_KC (120 KB) in L2.
#define GALAXY_GEMM_KC 256
#define GALAXY_GEMM_MC 120
#define GALAXY_GEMM_MAX_WIDTH 16

// One copy of the loops per instruction set, each compiled for it; the path in use is chosen
// once, by CPU features (or GALAXY_KERNELS), and can be switched for tests. GALAXY_WIDTH is floats
// per vector and GALAXY_ROWS the GEMM micro-kernel's rows, sized so that its 2 * GALAXY_ROWS
// accumulators and operands fit the registers.

#define GALAXY_LOOP(name) name##_baseline
#define GALAXY_TARGET
#define GALAXY_WIDTH 4
#define GALAXY_ROWS 4
#include "vector_loops.h"
#undef GALAXY_LOOP
#undef GALAXY_TARGET
#undef GALAXY_WIDTH
#undef GALAXY_ROWS

#if defined(__x86_64__)
#define GALAXY_LOOP(name) name##_avx2
#define GALAXY_TARGET __attribute__((target("avx2,fma")))
#define GALAXY_WIDTH 8
#define GALAXY_ROWS 6
#include "vector_loops.h"
#undef GALAXY_LOOP
#undef GALAXY_TARGET
#undef GALAXY_WIDTH
#undef GALAXY_ROWS

#define GALAXY_LOOP(name) name##_avx512
#define GALAXY_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma")))
#define GALAXY_WIDTH 16
#define GALAXY_ROWS 8
#include "vector_loops.h"
#undef GALAXY_LOOP
#undef GALAXY_TARGET
#undef GALAXY_WIDTH
#undef GALAXY_ROWS

// The lanes of columns x .. x + 15 that lie in [first, last).
static inline unsigned int lanes_within(int x, int first, int last) {
    const int lo = first - x < 0 ? 0 : first - x, hi = last - x > 16 ? 16 : last - x;
    return hi <= lo ? 0u : ((1u << hi) - 1u) & ~((1u << lo) - 1u);
}

// The native bf16 micro-kernels: vdpbf16ps multiplies 16 pairs and adds both products to 16 fp32
// accumulators in one instruction, twice the multiply-adds of an fp32 FMA per instruction. Same
// blocking, panel packing and results as the avx512 path's emulation (vector_loops.h).
#include <immintrin.h>
#define GALAXY_BF16_NATIVE_TILE(NAME, NV)                                                                   \
    __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,avx2,fma")))                               \
    static void NAME(int rows, int pairs, const unsigned int *restrict a, ptrdiff_t lda,                    \
                     const unsigned int *restrict b, ptrdiff_t ldb, int accumulate, float *restrict c,      \
                     ptrdiff_t ldc, int columns) {                                                          \
        const unsigned int *ar[8];                                                                          \
        for (int r = 0; r < 8; r++) ar[r] = a + (r < rows ? r : 0) * lda;                                   \
        __m512 acc[8][NV];                                                                                  \
        for (int r = 0; r < 8; r++)                                                                         \
            for (int v = 0; v < NV; v++) acc[r][v] = _mm512_setzero_ps();                                   \
        for (int q = 0; q < pairs; q++) {                                                                   \
            __m512bh bv[NV];                                                                                \
            for (int v = 0; v < NV; v++) bv[v] = (__m512bh)_mm512_loadu_si512(b + q * ldb + v * 16);        \
            for (int r = 0; r < 8; r++) {                                                                   \
                const __m512bh x = (__m512bh)_mm512_set1_epi32((int)ar[r][q]);                              \
                for (int v = 0; v < NV; v++) acc[r][v] = _mm512_dpbf16_ps(acc[r][v], x, bv[v]);             \
            }                                                                                               \
        }                                                                                                   \
        for (int r = 0; r < rows; r++) {                                                                    \
            float *restrict out = c + r * ldc;                                                              \
            if (columns == NV * 16) {                                                                       \
                for (int v = 0; v < NV; v++) {                                                              \
                    __m512 y = acc[r][v];                                                                   \
                    if (accumulate) y = _mm512_add_ps(y, _mm512_loadu_ps(out + v * 16));                    \
                    _mm512_storeu_ps(out + v * 16, y);                                                      \
                }                                                                                           \
            } else {                                                                                        \
                for (int v = 0; v < NV; v++) {                                                              \
                    const __mmask16 lanes = (__mmask16)lanes_within(16 * v, 0, columns);                    \
                    __m512 y = acc[r][v];                                                                   \
                    if (accumulate) y = _mm512_add_ps(_mm512_maskz_loadu_ps(lanes, out + v * 16), y);       \
                    _mm512_mask_storeu_ps(out + v * 16, lanes, y);                                          \
                }                                                                                           \
            }                                                                                               \
        }                                                                                                   \
    }
GALAXY_BF16_NATIVE_TILE(bf16_tile_wide_native, 2)
GALAXY_BF16_NATIVE_TILE(bf16_tile_narrow_native, 1)
#undef GALAXY_BF16_NATIVE_TILE

// 16 bf16 pairs from 16 even and 16 odd fp32 values: one vcvtne2ps2bf16 (round_bf16's rounding to
// nearest even) and one word permutation that puts each even value in the low half of its pair.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16"), always_inline))
static inline __m512i bf16_pairs_native(__m512 even, __m512 odd) {
    static const short pairs_of_halves[32] = {0, 16, 1, 17, 2,  18, 3,  19, 4,  20, 5,  21, 6,  22, 7,  23,
                                              8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
    return _mm512_permutexvar_epi16(_mm512_loadu_si512(pairs_of_halves), (__m512i)_mm512_cvtne2ps_pbh(odd, even));
}

// The panel packing of pack_bf16_panel_avx512 in five instructions per 16 columns: masked loads
// of the even and odd rows, bf16_pairs_native and a masked store.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,avx2,fma")))
static void pack_bf16_panel_native(const float *b, ptrdiff_t ldb, int rows, int columns, int padded,
                                   unsigned int *restrict out) {
    for (int q = 0; 2 * q < rows; q++) {
        const float *even = b + (ptrdiff_t)(2 * q) * ldb;
        const float *odd = 2 * q + 1 < rows ? even + ldb : NULL;
        for (int j = 0; j < padded; j += 16) {
            const int count = columns - j < 0 ? 0 : (columns - j > 16 ? 16 : columns - j);
            const int stored = padded - j > 16 ? 16 : padded - j;
            const __mmask16 mask = (__mmask16)((1u << count) - 1);
            const __m512 e = _mm512_maskz_loadu_ps(mask, even + j);
            const __m512 o = odd ? _mm512_maskz_loadu_ps(mask, odd + j) : _mm512_setzero_ps();
            _mm512_mask_storeu_epi32(out + (ptrdiff_t)q * padded + j, (__mmask16)((1u << stored) - 1),
                                     bf16_pairs_native(e, o));
        }
    }
}

// Calls TILE(N, ...) with the constant N = columns (1 to 12): one copy of a column tile per width,
// so that every accumulator stays in a register.
#define GALAXY_FOR_COLUMNS(columns, TILE, ...)                                                               \
    switch (columns) {                                                                                      \
    case 1: TILE(1, __VA_ARGS__); break;                                                                    \
    case 2: TILE(2, __VA_ARGS__); break;                                                                    \
    case 3: TILE(3, __VA_ARGS__); break;                                                                    \
    case 4: TILE(4, __VA_ARGS__); break;                                                                    \
    case 5: TILE(5, __VA_ARGS__); break;                                                                    \
    case 6: TILE(6, __VA_ARGS__); break;                                                                    \
    case 7: TILE(7, __VA_ARGS__); break;                                                                    \
    case 8: TILE(8, __VA_ARGS__); break;                                                                    \
    case 9: TILE(9, __VA_ARGS__); break;                                                                    \
    case 10: TILE(10, __VA_ARGS__); break;                                                                  \
    case 11: TILE(11, __VA_ARGS__); break;                                                                  \
    case 12: TILE(12, __VA_ARGS__); break;                                                                  \
    default: break;                                                                                         \
    }

// Bᵀ d B of 16 tiles of one plane (GALAXY_WINOGRAD_INPUT_TILE, as input_tile_row):
// out[k] holds value k of each. With `two_rows` false they are tiles t0 .. t0 + 15 of tile row ty;
// with it true (tile rows of at most 8 tiles), lanes 0-7 hold tiles 0-7 of row ty and lanes 8-15
// those of row ty + 1, so that short rows fill the vector. Columns 2tx + j of each padded input
// row come from two masked loads of the plane (zero outside it, as the padding) and a
// two-register permutation, so no padded copy of the rows is made.
__attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma"), always_inline))
static inline void input_tiles_avx512(const float *plane, int height, int width, int pad_top, int pad_left, int ty,
                                      int t0, int two_rows, __m512 out[16]) {
    static const int even_columns[16] = {0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30};
    static const int odd_columns[16] = {1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31};
    const __m512i evens = _mm512_loadu_si512(even_columns), odds = _mm512_loadu_si512(odd_columns);
    // Padded column x reads input column x - pad_left. The low register of a permutation holds
    // columns 2 * t0 + 2s .. + 15 of row ty; the high one the next 16 columns, or with two rows
    // the same columns of row ty + 1.
    __mmask16 lanes[2][2];
    for (int s = 0; s < 2; s++) {
        for (int h = 0; h < 2; h++) {
            lanes[s][h] = (__mmask16)lanes_within(2 * t0 + 2 * s + (two_rows ? 0 : 16 * h), pad_left, pad_left + width);
        }
    }
    // d[i][j]: padded row 2ty + i, padded column 2tx + j.
    __m512 d[4][4];
    for (int i = 0; i < 4; i++) {
        const float *row[2];
        __mmask16 inside[2];
        for (int h = 0; h < 2; h++) {
            const int iy = 2 * (two_rows ? ty + h : ty) - pad_top + i;
            inside[h] = iy >= 0 && iy < height ? 0xffff : 0;
            row[h] = plane + (ptrdiff_t)(inside[h] ? iy : 0) * width - pad_left + 2 * t0 + (two_rows ? 0 : 16 * h);
        }
        for (int s = 0; s < 2; s++) {
            const __m512 lo = _mm512_maskz_loadu_ps(lanes[s][0] & inside[0], row[0] + 2 * s);
            const __m512 hi = _mm512_maskz_loadu_ps(lanes[s][1] & inside[1], row[1] + 2 * s);
            d[i][2 * s] = _mm512_permutex2var_ps(lo, evens, hi);
            d[i][2 * s + 1] = _mm512_permutex2var_ps(lo, odds, hi);
        }
    }
    GALAXY_WINOGRAD_INPUT_TILE(d, out);
}

// Stores a step of input_tiles_avx512 (value k's 16 lanes of 32-bit words in lanes[k]) to
// dst + k * k_stride, tile row ty's tiles from t0 on: only the lanes that are tiles, packed
// together in tile order (with two rows, row ty's and then row ty + 1's).
__attribute__((target("avx512f,avx512bw,avx512vl"), always_inline))
static inline void store_input_step(unsigned int *dst, ptrdiff_t k_stride, const __m512i lanes[16], int two_rows, int ty,
                                    int tiles_h, int tiles_w, int t0) {
    if (two_rows) {
        const int rows = ty + 1 < tiles_h ? 2 : 1;
        const __mmask16 tiles = (__mmask16)(lanes_within(0, 0, tiles_w) | (rows == 2 ? lanes_within(-8, 0, tiles_w) : 0));
        const __mmask16 stored = (__mmask16)lanes_within(0, 0, rows * tiles_w);
        for (int k = 0; k < 16; k++) {
            _mm512_mask_storeu_epi32(dst + k * k_stride, stored, _mm512_maskz_compress_epi32(tiles, lanes[k]));
        }
    } else {
        const __mmask16 tiles = (__mmask16)lanes_within(t0, 0, tiles_w);
        for (int k = 0; k < 16; k++) _mm512_mask_storeu_epi32(dst + k * k_stride, tiles, lanes[k]);
    }
}

// galaxy_winograd_input_plane on AVX-512: 16 tiles at a time from masked loads of the plane (two
// tile rows per step when a row has at most 8 tiles), each value's 16 lanes stored directly, so
// neither padded row copies nor a tile at a time for short rows. The same values as
// load_tile_rows and input_tile_row.
__attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma")))
static void input_plane_avx512(const float *plane, int height, int width, int pad_top, int pad_left, int tiles_h,
                               int tiles_w, float *v, ptrdiff_t k_stride) {
    const int two_rows = tiles_w <= 8;
    for (int ty = 0; ty < tiles_h; ty += two_rows ? 2 : 1) {
        for (int t0 = 0; t0 < tiles_w; t0 += 16) {
            __m512 values[16];
            input_tiles_avx512(plane, height, width, pad_top, pad_left, ty, t0, two_rows, values);
            __m512i bits[16];
            for (int k = 0; k < 16; k++) bits[k] = _mm512_castps_si512(values[k]);
            store_input_step((unsigned int *)(v + (ptrdiff_t)ty * tiles_w + t0), k_stride, bits, two_rows, ty, tiles_h,
                             tiles_w, t0);
        }
    }
}

// galaxy_winograd_input_pairs on AVX512-BF16: both planes' 16 values of 16 tiles at a time (two
// tile rows at a time when they have at most 8 tiles), rounded and interleaved into pairs as
// pack_bf16_panel_native does, and stored straight into v; the fp32 transform is never written.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,avx2,fma")))
static void input_pairs_native(const float *plane0, const float *plane1, ptrdiff_t image_stride, int images, int height,
                               int width, int pad_top, int pad_left, int tiles_h, int tiles_w, unsigned int *v,
                               ptrdiff_t k_stride) {
    const int two_rows = tiles_w <= 8;
    for (int image = 0; image < images; image++) {
        const float *even = plane0 + image * image_stride, *odd = plane1 ? plane1 + image * image_stride : NULL;
        for (int ty = 0; ty < tiles_h; ty += two_rows ? 2 : 1) {
            for (int t0 = 0; t0 < tiles_w; t0 += 16) {
                __m512 e[16], o[16];
                input_tiles_avx512(even, height, width, pad_top, pad_left, ty, t0, two_rows, e);
                if (odd) {
                    input_tiles_avx512(odd, height, width, pad_top, pad_left, ty, t0, two_rows, o);
                } else {
                    for (int k = 0; k < 16; k++) o[k] = _mm512_setzero_ps();
                }
                __m512i pairs[16];
                for (int k = 0; k < 16; k++) pairs[k] = bf16_pairs_native(e[k], o[k]);
                store_input_step(v + (ptrdiff_t)image * tiles_h * tiles_w + (ptrdiff_t)ty * tiles_w + t0, k_stride, pairs,
                                 two_rows, ty, tiles_h, tiles_w, t0);
            }
        }
    }
}

// The widest output row the AVX-512 im2col loops take (their column masks live on the stack).
#define GALAXY_IM2COL_MAX_WIDTH 1024

// Row r = (c, i, j) of one image's im2col matrix, for a stride of 1 along rows: output row y's
// columns are input row y * stride_h + dy of plane c shifted by dx, and inside[t] marks the
// columns 16t .. 16t + 15 that lie inside the input (the others read as zero). A row past the
// matrix (the missing odd row of a last pair) has no plane and reads as zero.
typedef struct {
    const float *plane;
    int dy, dx;
    __mmask16 inside[GALAXY_IM2COL_MAX_WIDTH / 16];
} im2col_row_source;

static inline void im2col_source(const float *input, const galaxy_conv_window *w, int r, im2col_row_source *source) {
    const int taps = w->kernel_h * w->kernel_w, ow = w->out_w;
    source->plane = NULL;
    source->dy = source->dx = 0;
    if (r < w->channels * taps) {
        const int c = r / taps, i = r % taps / w->kernel_w, j = r % w->kernel_w;
        source->plane = input + (ptrdiff_t)c * w->height * w->width;
        source->dy = i * w->dilation_h - w->pad_top;
        source->dx = j * w->dilation_w - w->pad_left;
    }
    // Output column x reads input column x + dx.
    const int first = source->dx < 0 ? -source->dx : 0;
    const int last = w->width - source->dx < ow ? w->width - source->dx : ow;
    for (int t = 0; 16 * t < ow; t++) source->inside[t] = source->plane ? (__mmask16)lanes_within(16 * t, first, last) : 0;
}

// Where output row y of a source row starts in the input, and in `on` whether it lies inside
// (all ones) or is padding (zero, and the pointer is only a valid address to mask).
static inline const float *im2col_source_row(const im2col_row_source *source, const galaxy_conv_window *w, int y,
                                             __mmask16 *on) {
    const int iy = y * w->stride_h + source->dy;
    *on = source->plane && iy >= 0 && iy < w->height ? 0xffff : 0;
    return *on ? source->plane + (ptrdiff_t)iy * w->width + source->dx : (const float *)source;
}

// galaxy_im2col_bf16_pairs for a stride of 1 along rows, straight from the image: each pair of
// im2col rows is two shifted input rows, read with masked loads (zero outside the input) and
// packed as pack_bf16_panel_native packs, so no fp32 columns are written at all.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,avx2,fma")))
static void im2col_pairs_native(const float *input, const galaxy_conv_window *w, int first_row, int rows,
                                unsigned int *restrict out, ptrdiff_t ldp) {
    const int k = w->channels * w->kernel_h * w->kernel_w, ow = w->out_w, chunks = (ow + 15) / 16;
    const __mmask16 tail = (__mmask16)lanes_within(16 * (chunks - 1), 0, ow);
    for (int q = 0; 2 * q < k; q++) {
        im2col_row_source even, odd;
        im2col_source(input, w, 2 * q, &even);
        im2col_source(input, w, 2 * q + 1, &odd);
        for (int y = 0; y < rows; y++) {
            __mmask16 even_on, odd_on;
            const float *e = im2col_source_row(&even, w, first_row + y, &even_on);
            const float *o = im2col_source_row(&odd, w, first_row + y, &odd_on);
            unsigned int *restrict dst = out + (ptrdiff_t)q * ldp + (ptrdiff_t)y * ow;
            for (int t = 0; t < chunks; t++) {
                _mm512_mask_storeu_epi32(dst + 16 * t, t == chunks - 1 ? tail : 0xffff,
                                         bf16_pairs_native(_mm512_maskz_loadu_ps(even.inside[t] & even_on, e + 16 * t),
                                                           _mm512_maskz_loadu_ps(odd.inside[t] & odd_on, o + 16 * t)));
            }
        }
    }
}

// Transposes 16 vectors of 16 floats in registers: v[i][j] becomes v[j][i].
__attribute__((target("avx512f"), always_inline))
static inline void transpose_16x16(__m512 v[16]) {
    __m512 t[16], r[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(v[i], v[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(v[i], v[i + 1]);
    }
    // Within each 128-bit lane L of r[4g + m]: column 4L + m of rows 4g .. 4g + 3.
    for (int g = 0; g < 16; g += 4) {
        const __m512d t0 = _mm512_castps_pd(t[g]), t1 = _mm512_castps_pd(t[g + 1]);
        const __m512d t2 = _mm512_castps_pd(t[g + 2]), t3 = _mm512_castps_pd(t[g + 3]);
        r[g] = _mm512_castpd_ps(_mm512_unpacklo_pd(t0, t2));
        r[g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(t0, t2));
        r[g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(t1, t3));
        r[g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(t1, t3));
    }
    for (int m = 0; m < 4; m++) {
        const __m512 a = _mm512_shuffle_f32x4(r[m], r[4 + m], 0x88), b = _mm512_shuffle_f32x4(r[m], r[4 + m], 0xdd);
        const __m512 c = _mm512_shuffle_f32x4(r[8 + m], r[12 + m], 0x88), d = _mm512_shuffle_f32x4(r[8 + m], r[12 + m], 0xdd);
        v[m] = _mm512_shuffle_f32x4(a, c, 0x88);
        v[4 + m] = _mm512_shuffle_f32x4(b, d, 0x88);
        v[8 + m] = _mm512_shuffle_f32x4(a, c, 0xdd);
        v[12 + m] = _mm512_shuffle_f32x4(b, d, 0xdd);
    }
}

// Writes (or, with `accumulate`, adds to) C's rows 0 .. rows - 1 from a column tile's
// accumulators, acc[j][h] holding rows 16h .. 16h + 15 of column j: transposed in registers and
// stored a row at a time, instead of one float per element (which cost a third of the tiles).
__attribute__((target("avx512f"), always_inline))
static inline void store_column_tile(__m512 acc[12][2], const int columns, int rows, int accumulate, float *restrict c,
                                     ptrdiff_t ldc) {
    const __mmask16 mask = (__mmask16)((1u << columns) - 1u);
    for (int h = 0; h < 2 && 16 * h < rows; h++) {
        __m512 v[16];
        for (int j = 0; j < 16; j++) v[j] = j < columns ? acc[j][h] : _mm512_setzero_ps();
        transpose_16x16(v);
        for (int i = 0; i < 16 && 16 * h + i < rows; i++) {
            float *row = c + (ptrdiff_t)(16 * h + i) * ldc;
            const __m512 y = accumulate ? _mm512_add_ps(_mm512_maskz_loadu_ps(mask, row), v[i]) : v[i];
            _mm512_mask_storeu_ps(row, mask, y);
        }
    }
}

// galaxy_im2col for a stride of 1 along rows on AVX-512: each row's shifted input row copied with
// masked loads (zero outside the input) 16 columns at a time.
__attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma")))
static void im2col_avx512(const float *input, const galaxy_conv_window *w, int first_row, int rows, float *columns,
                          ptrdiff_t ldc) {
    const int k = w->channels * w->kernel_h * w->kernel_w, ow = w->out_w, chunks = (ow + 15) / 16;
    const __mmask16 tail = (__mmask16)lanes_within(16 * (chunks - 1), 0, ow);
    for (int r = 0; r < k; r++) {
        im2col_row_source source;
        im2col_source(input, w, r, &source);
        for (int y = first_row; y < first_row + rows; y++) {
            __mmask16 on;
            const float *src = im2col_source_row(&source, w, y, &on);
            float *dst = columns + r * ldc + (ptrdiff_t)y * ow;
            for (int t = 0; t < chunks; t++) {
                _mm512_mask_storeu_ps(dst + 16 * t, t == chunks - 1 ? tail : 0xffff,
                                      _mm512_maskz_loadu_ps(source.inside[t] & on, src + 16 * t));
            }
        }
    }
}

// A narrow block of C (up to 12 columns) vectorised over rows instead: 32 rows of A's pairs
// (a panel from galaxy_pack_bf16_panels) times each column's broadcast pair of B, so no lane
// computes a padding column. The same sums in the same order as the row tiles: the same bits.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,avx2,fma"), always_inline))
static inline void bf16_column_tile_native(const int columns, int rows, int pairs, const unsigned int *restrict panel,
                                           const unsigned int *restrict b, ptrdiff_t ldb, int accumulate,
                                           float *restrict c, ptrdiff_t ldc) {
    __m512 acc[12][2];
    for (int j = 0; j < columns; j++) acc[j][0] = acc[j][1] = _mm512_setzero_ps();
    for (int q = 0; q < pairs; q++) {
        const __m512bh a0 = (__m512bh)_mm512_loadu_si512(panel + q * 32);
        const __m512bh a1 = (__m512bh)_mm512_loadu_si512(panel + q * 32 + 16);
        for (int j = 0; j < columns; j++) {
            const __m512bh x = (__m512bh)_mm512_set1_epi32((int)b[q * ldb + j]);
            acc[j][0] = _mm512_dpbf16_ps(acc[j][0], a0, x);
            acc[j][1] = _mm512_dpbf16_ps(acc[j][1], a1, x);
        }
    }
    store_column_tile(acc, columns, rows, accumulate, c, ldc);
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,avx2,fma")))
static void bf16_column_block_native(int columns, int rows, int pairs, const unsigned int *restrict panel,
                                     const unsigned int *restrict b, ptrdiff_t ldb, int accumulate, float *restrict c,
                                     ptrdiff_t ldc) {
    GALAXY_FOR_COLUMNS(columns, bf16_column_tile_native, rows, pairs, panel, b, ldb, accumulate, c, ldc)
}

// sgemm_bf16_packed_with_avx512 with the native tiles, and column tiles for a last block of at
// most 12 columns when A's panels are given.
__attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma")))
static void sgemm_bf16_packed_native(int m, int n, int k, const unsigned int *a, ptrdiff_t lda,
                                     const unsigned int *a_panels, const unsigned int *bp, ptrdiff_t ldp, float *c,
                                     ptrdiff_t ldc) {
    const int whole = a_panels && n % 32 != 0 && n % 32 <= 12 ? n / 32 * 32 : n;
    if (whole > 0) {
        sgemm_bf16_packed_with_avx512(m, whole, k, a, lda, bp, ldp, c, ldc, bf16_tile_wide_native,
                                      bf16_tile_narrow_native);
    }
    if (whole == n) return;
    const int all_pairs = (k + 1) / 2;
    for (int k0 = 0; k0 < k; k0 += GALAXY_GEMM_KC) {
        const int kc = k - k0 < GALAXY_GEMM_KC ? k - k0 : GALAXY_GEMM_KC;
        for (int r0 = 0; r0 < m; r0 += 32) {
            bf16_column_block_native(n - whole, m - r0 < 32 ? m - r0 : 32, (kc + 1) / 2,
                                     a_panels + ((ptrdiff_t)(r0 / 32) * all_pairs + k0 / 2) * 32,
                                     bp + (ptrdiff_t)(k0 / 2) * ldp + whole, ldp, k0 > 0, c + (ptrdiff_t)r0 * ldc + whole,
                                     ldc);
        }
    }
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma")))
static void sgemm_bf16_native(int m, int n, int k, const unsigned int *a, ptrdiff_t lda, const float *b,
                              ptrdiff_t ldb, float *c, ptrdiff_t ldc, unsigned int *pad) {
    sgemm_bf16_with_avx512(m, n, k, a, lda, b, ldb, c, ldc, pad, pack_bf16_panel_native, bf16_tile_wide_native,
                           bf16_tile_narrow_native);
}
// A last block of an fp32 product of at most 12 columns, vectorised over rows instead: 32 rows of
// A (a panel from galaxy_pack_panels) times each column's broadcast value of B, so no lane
// computes a padding column. Each sum is the same chain of fused multiply-adds, in the same order,
// as in the row tiles of the AVX-512 loops: the same bits.
__attribute__((target("avx512f,avx2,fma"), always_inline))
static inline void column_tile_avx512(const int columns, int rows, int k, const float *restrict panel,
                                      const float *restrict b, ptrdiff_t ldb, float *restrict c, ptrdiff_t ldc) {
    __m512 acc[12][2];
    for (int j = 0; j < columns; j++) acc[j][0] = acc[j][1] = _mm512_setzero_ps();
    for (int p = 0; p < k; p++) {
        const __m512 a0 = _mm512_loadu_ps(panel + p * 32);
        const __m512 a1 = _mm512_loadu_ps(panel + p * 32 + 16);
        for (int j = 0; j < columns; j++) {
            const __m512 x = _mm512_set1_ps(b[p * ldb + j]);
            acc[j][0] = _mm512_fmadd_ps(a0, x, acc[j][0]);
            acc[j][1] = _mm512_fmadd_ps(a1, x, acc[j][1]);
        }
    }
    store_column_tile(acc, columns, rows, 0, c, ldc);
}

__attribute__((target("avx512f,avx2,fma")))
static void column_block_avx512(int columns, int rows, int k, const float *restrict panel, const float *restrict b,
                                ptrdiff_t ldb, float *restrict c, ptrdiff_t ldc) {
    GALAXY_FOR_COLUMNS(columns, column_tile_avx512, rows, k, panel, b, ldb, c, ldc)
}

// column_block_avx512 for AVX2+FMA: 16 ymm registers hold at most 12 columns of one 8-row group
// of a 32-row panel, so each group of the panel is a pass of its own (B's few columns are read
// again per group, from L1). The same fused multiply-adds in the same order as the AVX2 row
// tiles: the same bits.
__attribute__((target("avx2,fma"), always_inline))
static inline void column_tile_avx2(const int columns, int rows, int k, const float *restrict panel,
                                    const float *restrict b, ptrdiff_t ldb, float *restrict c, ptrdiff_t ldc) {
    for (int g = 0; 8 * g < rows; g++) {
        __m256 acc[12];
        for (int j = 0; j < columns; j++) acc[j] = _mm256_setzero_ps();
        for (int p = 0; p < k; p++) {
            const __m256 a = _mm256_loadu_ps(panel + p * 32 + 8 * g);
            for (int j = 0; j < columns; j++) acc[j] = _mm256_fmadd_ps(a, _mm256_set1_ps(b[p * ldb + j]), acc[j]);
        }
        const int group_rows = rows - 8 * g < 8 ? rows - 8 * g : 8;
        for (int j = 0; j < columns; j++) {
            float column[8];
            _mm256_storeu_ps(column, acc[j]);
            for (int i = 0; i < group_rows; i++) c[(ptrdiff_t)(8 * g + i) * ldc + j] = column[i];
        }
    }
}

__attribute__((target("avx2,fma")))
static void column_block_avx2(int columns, int rows, int k, const float *restrict panel, const float *restrict b,
                              ptrdiff_t ldb, float *restrict c, ptrdiff_t ldc) {
    GALAXY_FOR_COLUMNS(columns, column_tile_avx2, rows, k, panel, b, ldb, c, ldc)
}
#endif

typedef struct {
    const char *name;
    void (*input_tile_row)(const float *restrict, const float *restrict, const float *restrict,
                           const float *restrict, int, float *restrict, ptrdiff_t);
    void (*output_tile_row)(const float *restrict, ptrdiff_t, int, float *restrict, float *restrict);
    void (*output_tile_max)(const float *restrict, ptrdiff_t, int, float *restrict);
    void (*max_pool_2x2)(const float *, int, int, int, int, int, float *);
    void (*sgemm)(int, int, int, float, const float *, ptrdiff_t, const float *, ptrdiff_t, float, float *,
                  ptrdiff_t, float *);
    void (*sgemm_bf16)(int, int, int, const unsigned int *, ptrdiff_t, const float *, ptrdiff_t, float *, ptrdiff_t,
                       unsigned int *);
    void (*sgemm_bf16_packed)(int, int, int, const unsigned int *, ptrdiff_t, const unsigned int *,
                              const unsigned int *, ptrdiff_t, float *, ptrdiff_t);
    void (*pack_bf16)(const float *, ptrdiff_t, int, int, int, unsigned int *restrict);
    // galaxy_sgemm_panels' narrow last blocks (NULL: the row tiles do them).
    void (*column_block)(int, int, int, const float *restrict, const float *restrict, ptrdiff_t, float *restrict,
                         ptrdiff_t);
    // galaxy_im2col (NULL: the caller's own loop).
    void (*im2col)(const float *, const galaxy_conv_window *, int, int, float *, ptrdiff_t);
    // galaxy_im2col_bf16_pairs (NULL: the caller packs fp32 im2col columns instead).
    void (*im2col_pairs)(const float *, const galaxy_conv_window *, int, int, unsigned int *restrict, ptrdiff_t);
    // galaxy_winograd_input_plane (NULL: input_tile_row on copied rows).
    void (*input_plane)(const float *, int, int, int, int, int, int, float *, ptrdiff_t);
    // galaxy_winograd_input_pairs (NULL: input_tile_row on copied rows, then pack_bf16).
    void (*input_pairs)(const float *, const float *, ptrdiff_t, int, int, int, int, int, int, int, unsigned int *,
                        ptrdiff_t);
} kernel_path;

static const kernel_path paths[] = {
    {"baseline", input_tile_row_baseline, output_tile_row_baseline, output_tile_max_baseline, max_pool_2x2_baseline,
     sgemm_baseline, sgemm_bf16_baseline, sgemm_bf16_packed_baseline, pack_bf16_panel_baseline, NULL, NULL, NULL, NULL,
     NULL},
#if defined(__x86_64__)
    {"avx2", input_tile_row_avx2, output_tile_row_avx2, output_tile_max_avx2, max_pool_2x2_avx2, sgemm_avx2,
     sgemm_bf16_avx2, sgemm_bf16_packed_avx2, pack_bf16_panel_avx2, column_block_avx2, NULL, NULL, NULL, NULL},
    {"avx512", input_tile_row_avx512, output_tile_row_avx512, output_tile_max_avx512, max_pool_2x2_avx512,
     sgemm_avx512, sgemm_bf16_avx512, sgemm_bf16_packed_avx512, pack_bf16_panel_avx512, column_block_avx512,
     im2col_avx512, NULL, input_plane_avx512, NULL},
    // The avx512 loops, with bf16 products on the AVX512-BF16 dot-product instruction.
    {"avx512_bf16", input_tile_row_avx512, output_tile_row_avx512, output_tile_max_avx512, max_pool_2x2_avx512,
     sgemm_avx512, sgemm_bf16_native, sgemm_bf16_packed_native, pack_bf16_panel_native, column_block_avx512,
     im2col_avx512, im2col_pairs_native, input_plane_avx512, input_pairs_native},
#endif
};
static const int path_count = (int)(sizeof(paths) / sizeof(paths[0]));

// The same reading of the CPU as galaxy_read_cpu_features gives `galaxy doctor`.
int galaxy_kernel_path_supported(const char *name) {
    if (strcmp(name, "baseline") == 0) return 1;
    galaxy_cpu_features f;
    galaxy_read_cpu_features(&f);
    const int avx2 = f.avx2 && f.fma && f.os_saves_avx;
    if (strcmp(name, "avx2") == 0) return avx2;
    const int avx512 = avx2 && f.avx512f && f.avx512bw && f.avx512vl && f.os_saves_avx512;
    if (strcmp(name, "avx512") == 0) return avx512;
    if (strcmp(name, "avx512_bf16") == 0) return avx512 && f.avx512_bf16;
    return 0;
}

static const kernel_path *find_path(const char *name) {
    for (int i = 0; i < path_count; i++) {
        if (strcmp(paths[i].name, name) == 0) return &paths[i];
    }
    return NULL;
}

// The process's path, written once before the first kernel call. A test's switch
// (galaxy_set_kernel_path) holds for its own thread only: the GEMM paths round differently, so a
// process-wide switch would change the results of whatever else runs at that moment.
static const kernel_path *_Atomic current_path;
static _Thread_local const kernel_path *thread_path;
static const char *_Atomic ignored_request;

static const kernel_path *chosen_path(void) {
    if (thread_path) return thread_path;
    const kernel_path *path = current_path;
    if (path) return path;
    const char *requested = getenv("GALAXY_KERNELS");
    if (requested && *requested) {
        const kernel_path *wanted = find_path(requested);
        if (wanted && galaxy_kernel_path_supported(requested)) {
            current_path = wanted;
            return wanted;
        }
        ignored_request = requested;
    }
    path = &paths[0];
    for (int i = path_count - 1; i > 0; i--) {
        if (galaxy_kernel_path_supported(paths[i].name)) {
            path = &paths[i];
            break;
        }
    }
    current_path = path;
    return path;
}

const char *galaxy_kernel_path(void) { return chosen_path()->name; }

const char *galaxy_kernel_path_ignored_request(void) {
    (void)chosen_path();
    return ignored_request;
}

int galaxy_set_kernel_path(const char *name) {
    const kernel_path *path = find_path(name);
    if (!path) return -1;
    if (!galaxy_kernel_path_supported(name)) return -2;
    thread_path = path;
    return 0;
}

// Zeroes `count` floats. A row's padding is one or two values, which cost more as a memset call
// than as stores written out.
static inline void zero_floats(float *dst, int count) {
    switch (count) {
    case 3: dst[2] = 0; /* fall through */
    case 2: dst[1] = 0; /* fall through */
    case 1: dst[0] = 0; /* fall through */
    case 0: return;
    default: memset(dst, 0, sizeof(float) * (size_t)count);
    }
}

// The 4 zero-padded input rows of tile row `ty` of one plane, each 2 * tiles_w + 2 long, into `rows`.
static void load_tile_rows(const float *plane, int height, int width, int pad_top, int pad_left, int tiles_w, int ty,
                           float *rows) {
    const int row_length = 2 * tiles_w + 2;
    // Columns x read input column x - pad_left when that lies in [0, width).
    int first = pad_left < 0 ? 0 : (pad_left > row_length ? row_length : pad_left);
    int last = width + pad_left;
    if (last > row_length) last = row_length;
    if (last < first) last = first;
    for (int r = 0; r < 4; r++) {
        float *dst = rows + r * row_length;
        const int iy = 2 * ty - pad_top + r;
        if (iy < 0 || iy >= height) {
            memset(dst, 0, sizeof(float) * (size_t)row_length);
            continue;
        }
        const float *src = plane + (ptrdiff_t)iy * width - pad_left;
        zero_floats(dst, first);
        memcpy(dst + first, src + first, sizeof(float) * (size_t)(last - first));
        zero_floats(dst + last, row_length - last);
    }
}

void galaxy_winograd_input_plane(const float *plane, int height, int width, int pad_top, int pad_left,
                                 int tiles_h, int tiles_w, float *v, ptrdiff_t k_stride, float *rows) {
    const kernel_path *path = chosen_path();
    if (path->input_plane) {
        path->input_plane(plane, height, width, pad_top, pad_left, tiles_h, tiles_w, v, k_stride);
        return;
    }
    const int row_length = 2 * tiles_w + 2;
    for (int ty = 0; ty < tiles_h; ty++) {
        load_tile_rows(plane, height, width, pad_top, pad_left, tiles_w, ty, rows);
        path->input_tile_row(rows, rows + row_length, rows + 2 * row_length, rows + 3 * row_length, tiles_w,
                       v + (ptrdiff_t)ty * tiles_w, k_stride);
    }
}

void galaxy_winograd_input_pairs(const float *plane0, const float *plane1, ptrdiff_t image_stride, int images,
                                 int height, int width, int pad_top, int pad_left, int tiles_h, int tiles_w,
                                 unsigned int *v, ptrdiff_t k_stride, float *rows, float *tiles) {
    const kernel_path *path = chosen_path();
    if (path->input_pairs) {
        path->input_pairs(plane0, plane1, image_stride, images, height, width, pad_top, pad_left, tiles_h, tiles_w, v,
                          k_stride);
        return;
    }
    const int row_length = 2 * tiles_w + 2;
    const int per_image = tiles_h * tiles_w;
    const ptrdiff_t n = (ptrdiff_t)per_image * images;
    // tiles[k][p][image * per_image + tile]: value k of every tile of plane p, so that each k then
    // packs the two planes' whole rows as pairs in one pass.
    for (int image = 0; image < images; image++) {
        const float *planes[2] = {plane0 + image * image_stride, plane1 ? plane1 + image * image_stride : NULL};
        for (int p = 0; p < (plane1 ? 2 : 1); p++) {
            for (int ty = 0; ty < tiles_h; ty++) {
                load_tile_rows(planes[p], height, width, pad_top, pad_left, tiles_w, ty, rows);
                path->input_tile_row(rows, rows + row_length, rows + 2 * row_length, rows + 3 * row_length, tiles_w,
                                     tiles + p * n + (ptrdiff_t)image * per_image + (ptrdiff_t)ty * tiles_w, 2 * n);
            }
        }
    }
    for (int k = 0; k < 16; k++) path->pack_bf16(tiles + 2 * k * n, n, plane1 ? 2 : 1, (int)n, (int)n, v + k * k_stride);
}

int galaxy_im2col(const float *input, const galaxy_conv_window *w, int first_row, int rows, float *columns,
                  ptrdiff_t ldc) {
    const kernel_path *path = chosen_path();
    if (!path->im2col || w->stride_w != 1 || w->out_w > GALAXY_IM2COL_MAX_WIDTH) return 0;
    path->im2col(input, w, first_row, rows, columns, ldc);
    return 1;
}

int galaxy_im2col_bf16_pairs(const float *input, const galaxy_conv_window *w, int first_row, int rows,
                             unsigned int *out, ptrdiff_t ldp) {
    const kernel_path *path = chosen_path();
    if (!path->im2col_pairs || w->stride_w != 1 || w->out_w > GALAXY_IM2COL_MAX_WIDTH) return 0;
    path->im2col_pairs(input, w, first_row, rows, out, ldp);
    const int k = w->channels * w->kernel_h * w->kernel_w;
    const ptrdiff_t used = (ptrdiff_t)rows * w->out_w;
    for (int q = 0; 2 * q < k; q++) memset(out + q * ldp + used, 0, sizeof(unsigned int) * (size_t)(ldp - used));
    return 1;
}

void galaxy_winograd_output_plane(const float *m, ptrdiff_t m_stride, int tiles_h, int tiles_w,
                                  float *out, int out_h, int out_w) {
    const kernel_path *path = chosen_path();
    // Whole tiles go through the vector loop; an odd last column or row is written here.
    float spare_row[2 * tiles_w + 2];
    const int whole = out_w / 2;
    for (int ty = 0; ty < tiles_h; ty++) {
        const float *src = m + (ptrdiff_t)ty * tiles_w;
        const int oy = 2 * ty;
        float *top = out + (ptrdiff_t)oy * out_w;
        float *bottom = oy + 1 < out_h ? top + out_w : spare_row;
        path->output_tile_row(src, m_stride, whole, top, bottom);
        if (whole < tiles_w) {
            float block[4];
            winograd_output_tile(src + whole, m_stride, block);
            top[2 * whole] = block[0];
            if (oy + 1 < out_h) bottom[2 * whole] = block[2];
        }
    }
}

void galaxy_winograd_output_max_pool_plane(const float *m, ptrdiff_t m_stride, int tiles_w, float *out, int pooled_h,
                                           int pooled_w) {
    const kernel_path *path = chosen_path();
    // Pooled row y is tile row y; with no dropped tile column the plane is one contiguous run.
    if (pooled_w == tiles_w) {
        path->output_tile_max(m, m_stride, pooled_h * tiles_w, out);
        return;
    }
    for (int ty = 0; ty < pooled_h; ty++) {
        path->output_tile_max(m + (ptrdiff_t)ty * tiles_w, m_stride, pooled_w, out + (ptrdiff_t)ty * pooled_w);
    }
}

void galaxy_max_pool_2x2(const float *input, int planes, int height, int width, int out_h, int out_w,
                         float *output) {
    chosen_path()->max_pool_2x2(input, planes, height, width, out_h, out_w, output);
}

void galaxy_sgemm(int m, int n, int k, float alpha, const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb,
                  float beta, float *c, ptrdiff_t ldc) {
    // The zero-padded copy of a narrow last column block, one per thread.
    static _Thread_local float pad[GALAXY_GEMM_KC * 2 * GALAXY_GEMM_MAX_WIDTH];
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) c[i * ldc + j] = beta != 0 ? beta * c[i * ldc + j] : 0;
        }
        return;
    }
    chosen_path()->sgemm(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, pad);
}

void galaxy_sgemm_panels(int m, int n, int k, const float *a, ptrdiff_t lda, const float *a_panels, const float *b,
                         ptrdiff_t ldb, float *c, ptrdiff_t ldc) {
    const kernel_path *path = chosen_path();
    const int tail = n % 32, whole = n - tail;
    if (!a_panels || !path->column_block || tail == 0 || tail > 12 || k <= 0 || k > GALAXY_GEMM_KC) {
        galaxy_sgemm(m, n, k, 1, a, lda, b, ldb, 0, c, ldc);
        return;
    }
    if (whole > 0) galaxy_sgemm(m, whole, k, 1, a, lda, b, ldb, 0, c, ldc);
    for (int r0 = 0; r0 < m; r0 += 32) {
        path->column_block(tail, m - r0 < 32 ? m - r0 : 32, k, a_panels + (ptrdiff_t)(r0 / 32) * k * 32, b + whole, ldb,
                           c + (ptrdiff_t)r0 * ldc + whole, ldc);
    }
}

// Rows `[m][k]` of 32-bit values (fp32, or bf16 pairs) as panels of 32 rows: value p of rows
// r0..r0+31 at out[((r0 / 32) * k + p) * 32 + i], rows past m all zero bits.
static void pack_row_panels(const void *a, int m, int k, ptrdiff_t lda, void *out) {
    const unsigned char *from = a;
    unsigned char *to = out;
    for (int r0 = 0; r0 < m; r0 += 32) {
        for (int p = 0; p < k; p++) {
            for (int i = 0; i < 32; i++) {
                unsigned char *value = to + (((ptrdiff_t)(r0 / 32) * k + p) * 32 + i) * 4;
                if (r0 + i < m) {
                    memcpy(value, from + ((ptrdiff_t)(r0 + i) * lda + p) * 4, 4);
                } else {
                    memset(value, 0, 4);
                }
            }
        }
    }
}

void galaxy_pack_panels(const float *a, int m, int k, ptrdiff_t lda, float *out) { pack_row_panels(a, m, k, lda, out); }

// fp32 to bf16 with the panel packing's own rounding (round_bf16 of vector_loops.h).
static unsigned int bf16_bits(float x) {
    bits_baseline u = {0};
    memcpy(&u, &x, sizeof x);
    return round_bf16_baseline(u)[0] >> 16;
}

void galaxy_pack_bf16_pairs(const float *a, int m, int k, ptrdiff_t lda, unsigned int *out) {
    const int pairs = (k + 1) / 2;
    for (int i = 0; i < m; i++) {
        for (int q = 0; q < pairs; q++) {
            const unsigned int even = bf16_bits(a[(ptrdiff_t)i * lda + 2 * q]);
            const unsigned int odd = 2 * q + 1 < k ? bf16_bits(a[(ptrdiff_t)i * lda + 2 * q + 1]) : 0;
            out[(ptrdiff_t)i * pairs + q] = even | (odd << 16);
        }
    }
}

// For the bf16 products, which only write C: 1 when there is nothing to multiply (C, if it has
// any element, is then zero), 0 otherwise.
static int bf16_product_is_empty(int m, int n, int k, float *c, ptrdiff_t ldc) {
    if (m <= 0 || n <= 0) return 1;
    if (k > 0) return 0;
    for (int i = 0; i < m; i++) memset(c + (ptrdiff_t)i * ldc, 0, sizeof(float) * (size_t)n);
    return 1;
}

void galaxy_sgemm_bf16(int m, int n, int k, const unsigned int *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb,
                       float *c, ptrdiff_t ldc) {
    // One packed panel of B: GALAXY_GEMM_KC / 2 pair rows of up to GALAXY_GEMM_MAX_WIDTH * 2 columns.
    static _Thread_local unsigned int panel[GALAXY_GEMM_KC / 2 * 2 * GALAXY_GEMM_MAX_WIDTH];
    if (bf16_product_is_empty(m, n, k, c, ldc)) return;
    chosen_path()->sgemm_bf16(m, n, k, a, lda, b, ldb, c, ldc, panel);
}

int galaxy_bf16_native(void) { return strcmp(chosen_path()->name, "avx512_bf16") == 0; }

void galaxy_sgemm_bf16_packed(int m, int n, int k, const unsigned int *a, ptrdiff_t lda, const unsigned int *a_panels,
                              const unsigned int *b, ptrdiff_t ldb, float *c, ptrdiff_t ldc) {
    if (bf16_product_is_empty(m, n, k, c, ldc)) return;
    chosen_path()->sgemm_bf16_packed(m, n, k, a, lda, a_panels, b, ldb, c, ldc);
}

void galaxy_pack_bf16_panels(const unsigned int *a, int m, int pairs, ptrdiff_t lda, unsigned int *out) {
    pack_row_panels(a, m, pairs, lda, out);
}
