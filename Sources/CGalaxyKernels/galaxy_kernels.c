#include "galaxy_kernels.h"

#include <string.h>

// One clone per vector width on x86-64; the loader picks the best through an ifunc.
#if defined(__x86_64__) && defined(__linux__)
#define GALAXY_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define GALAXY_VECTOR_CLONES
#endif

// Bᵀ d B for one tile row: the loops over tx read stride-2 columns and store contiguously for
// each of the 16 outputs, which the vectoriser turns into full-width operations.
GALAXY_VECTOR_CLONES
static void input_tile_row(const float *restrict r0, const float *restrict r1, const float *restrict r2,
                           const float *restrict r3, int tiles_w, float *restrict v, ptrdiff_t ks) {
    for (int tx = 0; tx < tiles_w; tx++) {
        const int x = 2 * tx;
        float t[4][4];
        for (int j = 0; j < 4; j++) {
            t[0][j] = r0[x + j] - r2[x + j];
            t[1][j] = r1[x + j] + r2[x + j];
            t[2][j] = r2[x + j] - r1[x + j];
            t[3][j] = r1[x + j] - r3[x + j];
        }
        for (int i = 0; i < 4; i++) {
            float *restrict o = v + 4 * i * ks + tx;
            o[0] = t[i][0] - t[i][2];
            o[ks] = t[i][1] + t[i][2];
            o[2 * ks] = t[i][2] - t[i][1];
            o[3 * ks] = t[i][1] - t[i][3];
        }
    }
}

void galaxy_winograd_input_plane(const float *plane, int height, int width, int pad_top, int pad_left,
                                 int tiles_h, int tiles_w, float *v, ptrdiff_t k_stride, float *rows) {
    const int row_length = 2 * tiles_w + 2;
    // Columns x read input column x - pad_left when that lies in [0, width).
    int first = pad_left < 0 ? 0 : (pad_left > row_length ? row_length : pad_left);
    int last = width + pad_left;
    if (last > row_length) last = row_length;
    if (last < first) last = first;
    for (int ty = 0; ty < tiles_h; ty++) {
        for (int r = 0; r < 4; r++) {
            float *dst = rows + r * row_length;
            const int iy = 2 * ty - pad_top + r;
            if (iy < 0 || iy >= height) {
                memset(dst, 0, sizeof(float) * (size_t)row_length);
                continue;
            }
            const float *src = plane + (ptrdiff_t)iy * width - pad_left;
            memset(dst, 0, sizeof(float) * (size_t)first);
            memcpy(dst + first, src + first, sizeof(float) * (size_t)(last - first));
            memset(dst + last, 0, sizeof(float) * (size_t)(row_length - last));
        }
        input_tile_row(rows, rows + row_length, rows + 2 * row_length, rows + 3 * row_length, tiles_w,
                       v + (ptrdiff_t)ty * tiles_w, k_stride);
    }
}

// Aᵀ m A for the tiles of one row whose 2x2 block lies inside the output; the caller clips the rest.
GALAXY_VECTOR_CLONES
static void output_tile_row(const float *restrict m, ptrdiff_t ms, int count, float *restrict top,
                            float *restrict bottom) {
    for (int tx = 0; tx < count; tx++) {
        const float *p = m + tx;
        float s0[4], s1[4];
        for (int j = 0; j < 4; j++) {
            const float a = p[j * ms], b = p[(4 + j) * ms], c = p[(8 + j) * ms], d = p[(12 + j) * ms];
            s0[j] = a + b + c;
            s1[j] = b - c - d;
        }
        top[2 * tx] = s0[0] + s0[1] + s0[2];
        top[2 * tx + 1] = s0[1] - s0[2] - s0[3];
        bottom[2 * tx] = s1[0] + s1[1] + s1[2];
        bottom[2 * tx + 1] = s1[1] - s1[2] - s1[3];
    }
}

void galaxy_winograd_output_plane(const float *m, ptrdiff_t m_stride, int tiles_h, int tiles_w,
                                  float *out, int out_h, int out_w) {
    // Whole tiles go through the vector loop; an odd last column or row is written here.
    float spare_row[2 * tiles_w + 2];
    const int whole = out_w / 2;
    for (int ty = 0; ty < tiles_h; ty++) {
        const float *src = m + (ptrdiff_t)ty * tiles_w;
        const int oy = 2 * ty;
        float *top = out + (ptrdiff_t)oy * out_w;
        float *bottom = oy + 1 < out_h ? top + out_w : spare_row;
        output_tile_row(src, m_stride, whole, top, bottom);
        if (whole < tiles_w) {
            const float *p = src + whole;
            float s0[4], s1[4];
            for (int j = 0; j < 4; j++) {
                const float a = p[j * m_stride], b = p[(4 + j) * m_stride], c = p[(8 + j) * m_stride],
                            d = p[(12 + j) * m_stride];
                s0[j] = a + b + c;
                s1[j] = b - c - d;
            }
            top[2 * whole] = s0[0] + s0[1] + s0[2];
            if (oy + 1 < out_h) bottom[2 * whole] = s1[0] + s1[1] + s1[2];
        }
    }
}

// Same comparison as Swift's max(a, b): b when b >= a, else a.
static inline float larger(float a, float b) { return b >= a ? b : a; }

GALAXY_VECTOR_CLONES
void galaxy_max_pool_2x2(const float *input, int planes, int height, int width, int out_h, int out_w,
                         float *output) {
    for (int p = 0; p < planes; p++) {
        const float *src = input + (ptrdiff_t)p * height * width;
        float *dst = output + (ptrdiff_t)p * out_h * out_w;
        for (int y = 0; y < out_h; y++) {
            const float *restrict r0 = src + (ptrdiff_t)2 * y * width;
            const float *restrict r1 = r0 + width;
            float *restrict out = dst + (ptrdiff_t)y * out_w;
            for (int x = 0; x < out_w; x++) {
                out[x] = larger(larger(r0[2 * x], r0[2 * x + 1]), larger(r1[2 * x], r1[2 * x + 1]));
            }
        }
    }
}
