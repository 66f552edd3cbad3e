/*
 * ftfuzz_sched.c: seeded schedule perturbation for free-threaded CPython (LD_PRELOAD shim).
 *
 * The threads stay truly parallel; the shim only makes some of them late, at the places where being late
 * changes who wins a race:
 *  - contention: CPython's PyMutex spins with sched_yield() and parks on a semaphore (Python/lock.c,
 *    Python/parking_lot.c). While two threads or more run, a yield or a wake-up (sem_post) is delayed now
 *    and then, so the thread that lost (or the one that woke it) falls behind while the other runs on
 *    inside the object.
 *  - change points (as in PCT, Burckhardt et al. 2010): a helper thread picks, at seeded random moments, one
 *    of the process's other threads and stops it for a while (a signal whose handler sleeps), wherever it
 *    is, in C code or in the eval loop, so the other threads run alone through what it was doing.
 * The seed fixes every choice the shim makes (which delay, which thread by its order of birth, when, how
 * long); it does not fix the kernel's scheduling, so a seed is a distribution to sample, not a replay.
 *
 * Use: LD_PRELOAD=libftfuzz_sched.so FTFUZZ_SCHED_SEED=<n> python repro.py   (starts at load)
 *      or, from a process the shim is preloaded in, ftfuzz_sched_start(seed) / ftfuzz_sched_stop()
 *      (ftfuzz's harness does this per program, through ctypes, in fork-server workers).
 * Without a seed the shim does nothing but forward the calls.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static _Atomic uint64_t seed;       /* 0: off */
static _Atomic uint64_t generation; /* bumped by every start, so threads reseed */
static _Atomic uint32_t births;
static _Atomic int running;
static pthread_t helper;
static _Atomic int helper_alive;
static _Atomic pid_t helper_tid;
static int stall_signal;
/* Threads the helper saw at its last change point (itself excluded): below 2, nobody to lose a race to. */
static _Atomic int live_threads;

static __thread uint64_t rng_state;
static __thread uint64_t rng_generation;

static uint64_t splitmix(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Each thread's stream: the seed and the thread's order of birth (its first call into the shim). */
static uint64_t next(void) {
    uint64_t g = atomic_load(&generation);
    if (rng_generation != g) {
        rng_generation = g;
        rng_state = atomic_load(&seed) ^ ((uint64_t)atomic_fetch_add(&births, 1) * 0xD1B54A32D192ED03ull);
    }
    return splitmix(&rng_state);
}

static void spin_us(uint32_t us) {
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    do {
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while ((uint64_t)(now.tv_sec - start.tv_sec) * 1000000u + (uint64_t)(now.tv_nsec - start.tv_nsec) / 1000u < us);
}

static void sleep_us(uint32_t us) {
    struct timespec ts = { us / 1000000u, (long)(us % 1000000u) * 1000 };
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {}
}

/* At a contended point, while two threads or more run: with probability 1/32, late by 1..50 us (spinning:
 * it stays on its core). A contended PyMutex yields up to 40 times before it parks, and a focused program
 * contends hundreds of thousands of times: at 1/8 and 100 us focused programs ran 3x slower. A single
 * thread yields too (CPython's startup calls sched_yield ~1800 times; a thread re-entering its own object's
 * critical section spins): those are never delayed. */
static void maybe_delay(void) {
    if (!atomic_load_explicit(&running, memory_order_relaxed) || atomic_load_explicit(&live_threads, memory_order_relaxed) < 2) return;
    uint64_t r = next();
    if ((r & 31) != 0) return;
    spin_us(1 + (uint32_t)((r >> 8) % 50));
}

static int (*real_sched_yield)(void);
static int (*real_sem_post)(sem_t *);

int sched_yield(void) {
    if (!real_sched_yield) real_sched_yield = (int (*)(void))dlsym(RTLD_NEXT, "sched_yield");
    maybe_delay();
    return real_sched_yield();
}

int sem_post(sem_t *sem) {
    if (!real_sem_post) real_sem_post = (int (*)(sem_t *))dlsym(RTLD_NEXT, "sem_post");
    int rc = real_sem_post(sem);
    maybe_delay(); /* the woken thread runs first */
    return rc;
}

/* The tids of this process's threads, but the helper's; at most max. */
static int threads(pid_t *out, int max) {
    int fd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return 0;
    char buf[4096];
    int n = 0;
    pid_t self = atomic_load(&helper_tid);
    for (;;) {
        long got = syscall(SYS_getdents64, fd, buf, sizeof buf);
        if (got <= 0) break;
        for (long off = 0; off < got;) {
            struct { uint64_t ino; int64_t off; unsigned short reclen; unsigned char type; char name[]; } *d = (void *)(buf + off);
            if (d->name[0] != '.') {
                pid_t tid = (pid_t)atoi(d->name);
                if (tid != self && n < max) out[n++] = tid;
            }
            off += d->reclen;
        }
    }
    close(fd);
    return n;
}

/* Stall requests: the helper writes the victim's tid and time into a free slot, then signals it; the
 * victim's handler finds its slot by tid, frees it and sleeps. */
#define SLOTS 256
static _Atomic pid_t slot_tid[SLOTS];
static _Atomic uint32_t slot_us[SLOTS];

static void on_stall_slot(int sig) {
    (void)sig;
    int saved = errno;
    pid_t me = (pid_t)syscall(SYS_gettid);
    for (int i = 0; i < SLOTS; i++) {
        if (atomic_load(&slot_tid[i]) == me) {
            uint32_t us = atomic_exchange(&slot_us[i], 0);
            atomic_store(&slot_tid[i], 0);
            if (us) sleep_us(us);
            break;
        }
    }
    errno = saved;
}

static void *helper_main(void *arg) {
    (void)arg;
    atomic_store(&helper_tid, (pid_t)syscall(SYS_gettid));
    uint64_t state = atomic_load(&seed) ^ 0x5851F42D4C957F2Dull;
    pid_t pid = getpid();
    while (atomic_load(&running)) {
        uint64_t r = splitmix(&state);
        sleep_us(2000 + (uint32_t)(r % 18000)); /* the next change point: 2..20 ms away (PCT: few of them) */
        if (!atomic_load(&running)) break;
        pid_t tids[512];
        int n = threads(tids, 512);
        atomic_store(&live_threads, n);
        if (n < 2) continue; /* one thread alone has nobody to lose a race to */
        r = splitmix(&state);
        pid_t victim = tids[r % (uint64_t)n];
        uint32_t us = 100 + (uint32_t)((r >> 20) % 900); /* starved for 0.1..1 ms */
        for (int i = 0; i < SLOTS; i++) {
            pid_t expected = 0;
            if (atomic_compare_exchange_strong(&slot_tid[i], &expected, victim)) {
                atomic_store(&slot_us[i], us);
                if (syscall(SYS_tgkill, pid, victim, stall_signal) != 0) {
                    atomic_store(&slot_us[i], 0);
                    atomic_store(&slot_tid[i], 0);
                }
                break;
            }
        }
    }
    return NULL;
}

int ftfuzz_sched_start(uint64_t s) {
    if (atomic_load(&running)) return 0;
    if (s == 0) s = 1;
    stall_signal = SIGRTMIN + 7;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stall_slot;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(stall_signal, &sa, NULL) != 0) return -1;
    for (int i = 0; i < SLOTS; i++) { atomic_store(&slot_tid[i], 0); atomic_store(&slot_us[i], 0); }
    atomic_store(&seed, s);
    atomic_store(&births, 0);
    atomic_fetch_add(&generation, 1);
    atomic_store(&running, 1);
    atomic_store(&live_threads, 0);
    /* The helper must not take the signal itself, and Python must see no new thread: it is a raw pthread. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&helper, NULL, helper_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) { atomic_store(&running, 0); return -1; }
    atomic_store(&helper_alive, 1);
    return 0;
}

void ftfuzz_sched_stop(void) {
    if (!atomic_load(&running)) return;
    atomic_store(&running, 0);
    if (atomic_exchange(&helper_alive, 0)) pthread_join(helper, NULL);
}

/* A forked child has no helper thread: it starts again only if the child asks. */
static void after_fork_child(void) {
    atomic_store(&running, 0);
    atomic_store(&helper_alive, 0);
}

__attribute__((constructor)) static void init(void) {
    pthread_atfork(NULL, NULL, after_fork_child);
    const char *text = getenv("FTFUZZ_SCHED_SEED");
    if (text && *text) ftfuzz_sched_start(strtoull(text, NULL, 10));
}
