#include "galaxy_kernels.h"

#if defined(__x86_64__)
#include <cpuid.h>
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

static unsigned long long read_xcr0(void) {
    unsigned int eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((unsigned long long)edx << 32) | eax;
}

void galaxy_read_cpu_features(galaxy_cpu_features *out) {
    *out = (galaxy_cpu_features){0};
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return;
    const int osxsave = (ecx >> 27) & 1;
    out->fma = (ecx >> 12) & 1;
    const int avx = (ecx >> 28) & 1;
    const unsigned long long xcr0 = osxsave ? read_xcr0() : 0;
    // The OS must save the registers on a context switch before a program may use them.
    out->os_saves_avx = avx && (xcr0 & 0x6) == 0x6;
    out->os_saves_avx512 = out->os_saves_avx && (xcr0 & 0xE0) == 0xE0;
    const int os_saves_tiles = (xcr0 & 0x60000) == 0x60000;
    if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) {
        const unsigned int max_subleaf = eax;
        out->avx2 = (ebx >> 5) & 1;
        out->avx512f = (ebx >> 16) & 1;
        out->avx512bw = (ebx >> 30) & 1;
        out->avx512vl = (ebx >> 31) & 1;
        out->avx512_vnni = (ecx >> 11) & 1;
        out->amx_bf16 = (edx >> 22) & 1;
        out->avx512_fp16 = (edx >> 23) & 1;
        out->amx_tile = (edx >> 24) & 1;
        out->amx_int8 = (edx >> 25) & 1;
        if (max_subleaf >= 1 && __get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx)) {
            out->avx512_bf16 = (eax >> 5) & 1;
        }
    }
#if defined(__linux__)
    // Linux hands out AMX tile state only to processes that ask (arch_prctl ARCH_REQ_XCOMP_PERM);
    // asking for it here would change the process, so report whether the kernel offers it.
    if (out->amx_tile && os_saves_tiles) {
        unsigned long long supported = 0;
        const long ARCH_GET_XCOMP_SUPP = 0x1021;
        if (syscall(SYS_arch_prctl, ARCH_GET_XCOMP_SUPP, &supported) == 0) {
            out->os_offers_amx = (supported >> 18) & 1;
        }
    }
#else
    (void)os_saves_tiles;
#endif
}

#else
void galaxy_read_cpu_features(galaxy_cpu_features *out) { *out = (galaxy_cpu_features){0}; }
#endif
