#include "galaxy_kernels.h"

#include <time.h>

#if defined(__x86_64__)
#include <immintrin.h>
static inline void relax(void) { _mm_pause(); }
#else
static inline void relax(void) {}
#endif

long galaxy_team_claim(long *counter) { return __atomic_fetch_add(counter, 1, __ATOMIC_ACQ_REL); }

int galaxy_team_take(long *flag) {
    return __atomic_load_n(flag, __ATOMIC_RELAXED) == 0 && __atomic_exchange_n(flag, 1, __ATOMIC_ACQ_REL) == 0;
}

void galaxy_team_finished(long *counter) { __atomic_fetch_add(counter, 1, __ATOMIC_RELEASE); }

void galaxy_team_add(long *counter, long value) { __atomic_fetch_add(counter, value, __ATOMIC_RELAXED); }

long galaxy_team_load(const long *counter) { return __atomic_load_n(counter, __ATOMIC_RELAXED); }

void galaxy_team_wait(const long *counter, long target) {
    while (__atomic_load_n(counter, __ATOMIC_ACQUIRE) < target) relax();
}

int galaxy_team_await(const long *value, long nanoseconds) {
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        for (int i = 0; i < 64; i++) {
            if (__atomic_load_n(value, __ATOMIC_ACQUIRE) != 0) return 1;
            relax();
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((now.tv_sec - start.tv_sec) * 1000000000L + (now.tv_nsec - start.tv_nsec) >= nanoseconds) return 0;
    }
}

void galaxy_team_store(long *value, long new_value) { __atomic_store_n(value, new_value, __ATOMIC_RELEASE); }
