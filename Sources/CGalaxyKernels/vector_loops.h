// The engine's vectorisable loops, included once per instruction set by galaxy_kernels.c with
// GALAXY_LOOP(name) (the suffixed function name) and GALAXY_TARGET (the target attribute) set.
// They only add, subtract and compare, so every instruction set gives bit-identical results.

// Bᵀ d B for one tile row: the loops over tx read stride-2 columns and store contiguously for
// each of the 16 outputs, which the vectoriser turns into full-width operations.
GALAXY_TARGET
static void GALAXY_LOOP(input_tile_row)(const float *restrict r0, const float *restrict r1,
                                        const float *restrict r2, const float *restrict r3, int tiles_w,
                                        float *restrict v, ptrdiff_t ks) {
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

// Aᵀ m A for the tiles of one row whose 2x2 block lies inside the output; the caller clips the rest.
GALAXY_TARGET
static void GALAXY_LOOP(output_tile_row)(const float *restrict m, ptrdiff_t ms, int count, float *restrict top,
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

GALAXY_TARGET
static void GALAXY_LOOP(max_pool_2x2)(const float *input, int planes, int height, int width, int out_h, int out_w,
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
