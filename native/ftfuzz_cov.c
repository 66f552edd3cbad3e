/*
 * ftfuzz_cov.c: the SanitizerCoverage runtime of ftfuzz's coverage builds of CPython.
 *
 * The interpreter (and every extension module built against it) is compiled with
 *   -fsanitize-coverage=edge,inline-bool-flag,pc-table
 * and this object is linked into the python executable (configure LIBS=), which exports its symbols
 * (CPython links with -export-dynamic), so extension modules loaded later register here too.
 *
 * inline-bool-flag, not counters: an instrumented edge loads its flag and stores only when it is still
 * clear, so threads racing through the same code do not bounce a cache line per edge (8-bit counters
 * would: they change the timing of the very collisions ftfuzz looks for).
 *
 * Nothing happens unless asked. ftfuzz's harness (python/ftfuzz_harness.py) calls, through ctypes:
 *   ftfuzz_cov_reset()            before a program: clear every flag (fork-server workers included)
 *   ftfuzz_cov_dump(path)         after it: the flags set, per loaded object
 *   ftfuzz_cov_layout(path)       once per build: every edge's pc, as an offset in its object file
 * Formats (little-endian):
 *   dump:   "FTCOV1\n", then per object: u32 name length, name, u64 edges, ceil(edges/8) bitmap bytes
 *   layout: "FTCOVL1\n", then per object: u32 name length, name, u64 edges, edges x (u64 offset, u64 flags)
 * An object is named by its file's absolute path; edge i of an object is the i-th entry of its pc table,
 * which is fixed by the build, so edge numbers compare across processes and runs.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_OBJECTS 4096

struct object {
    char *flags;
    uint64_t edges;
    const uintptr_t *pcs; /* pairs: pc, flags (1 = function entry) */
    uintptr_t base;
    char name[512];
};

static struct object objects[MAX_OBJECTS];
static int n_objects;

void __sanitizer_cov_bool_flag_init(char *start, char *stop) {
    if (start == stop || n_objects >= MAX_OBJECTS) return;
    for (int i = 0; i < n_objects; i++)
        if (objects[i].flags == start) return; /* a second constructor of the same object */
    objects[n_objects].flags = start;
    objects[n_objects].edges = (uint64_t)(stop - start);
    objects[n_objects].pcs = NULL;
    n_objects++;
}

struct find { uintptr_t pc; uintptr_t base; const char *name; int found; };

static int find_object(struct dl_phdr_info *info, size_t size, void *data) {
    (void)size;
    struct find *f = data;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD) continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (f->pc >= lo && f->pc < lo + ph->p_memsz) {
            f->base = info->dlpi_addr;
            f->name = info->dlpi_name;
            f->found = 1;
            return 1;
        }
    }
    return 0;
}

void __sanitizer_cov_pcs_init(const uintptr_t *beg, const uintptr_t *end) {
    uint64_t n = (uint64_t)(end - beg) / 2;
    if (n == 0) return;
    for (int i = n_objects - 1; i >= 0; i--) {
        struct object *o = &objects[i];
        if (o->pcs != NULL || o->edges != n) continue;
        o->pcs = beg;
        struct find f = { beg[0], 0, NULL, 0 };
        dl_iterate_phdr(find_object, &f);
        o->base = f.base;
        if (f.found && f.name && f.name[0]) {
            if (!realpath(f.name, o->name)) snprintf(o->name, sizeof o->name, "%s", f.name);
        } else {
            ssize_t len = readlink("/proc/self/exe", o->name, sizeof o->name - 1);
            o->name[len > 0 ? len : 0] = '\0';
        }
        return;
    }
}

void ftfuzz_cov_reset(void) {
    for (int i = 0; i < n_objects; i++) memset(objects[i].flags, 0, objects[i].edges);
}

static int write_name(FILE *out, const struct object *o) {
    uint32_t len = (uint32_t)strlen(o->name);
    return fwrite(&len, 4, 1, out) == 1 && fwrite(o->name, 1, len, out) == len && fwrite(&o->edges, 8, 1, out) == 1;
}

int ftfuzz_cov_dump(const char *path) {
    FILE *out = fopen(path, "wb");
    if (!out) return -1;
    int ok = fputs("FTCOV1\n", out) >= 0;
    unsigned char byte[1];
    for (int i = 0; ok && i < n_objects; i++) {
        const struct object *o = &objects[i];
        if (!o->pcs) continue;
        ok = write_name(out, o);
        for (uint64_t e = 0; ok && e < o->edges; e += 8) {
            byte[0] = 0;
            for (uint64_t b = 0; b < 8 && e + b < o->edges; b++)
                if (o->flags[e + b]) byte[0] |= (unsigned char)(1u << b);
            ok = fwrite(byte, 1, 1, out) == 1;
        }
    }
    return (fclose(out) == 0 && ok) ? 0 : -1;
}

int ftfuzz_cov_layout(const char *path) {
    FILE *out = fopen(path, "wb");
    if (!out) return -1;
    int ok = fputs("FTCOVL1\n", out) >= 0;
    for (int i = 0; ok && i < n_objects; i++) {
        const struct object *o = &objects[i];
        if (!o->pcs) continue;
        ok = write_name(out, o);
        for (uint64_t e = 0; ok && e < o->edges; e++) {
            uint64_t pair[2] = { (uint64_t)(o->pcs[2 * e] - o->base), (uint64_t)o->pcs[2 * e + 1] };
            ok = fwrite(pair, 8, 2, out) == 2;
        }
    }
    return (fclose(out) == 0 && ok) ? 0 : -1;
}
