/* The floor for probing another process's fds from user space: a C loop over /proc/PID/fd.
 * usage: fd-floor PID count|full|stat ITERATIONS   prints microseconds per sample and the fd count.
 *   count: opendir + readdir (getdents64), count entries
 *   full:  the same plus readlinkat on every entry (what classifying needs)
 *   stat:  one stat() of /proc/PID/fd (Linux >= 6.2 reports the open fd count as st_size)
 *   walk:  stat for the count, then readlinkat on fd numbers 0, 1, 2... until that many were found
 *          (what repro's full path does on a dense table: no directory read) */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int main(int argc, char **argv) {
    if (argc < 4) return 2;
    char path[64];
    snprintf(path, sizeof path, "/proc/%s/fd", argv[1]);
    int iterations = atoi(argv[3]);
    int full = strcmp(argv[2], "full") == 0, by_stat = strcmp(argv[2], "stat") == 0, walk = strcmp(argv[2], "walk") == 0;
    long fds = 0;
    char target[4096];
    double start = now_us();
    for (int i = 0; i < iterations; i++) {
        fds = 0;
        if (by_stat) {
            struct stat st;
            if (stat(path, &st) != 0) return 1;
            fds = st.st_size;
            continue;
        }
        if (walk) {
            struct stat st;
            if (stat(path, &st) != 0) return 1;
            int dfd = open(path, O_RDONLY | O_DIRECTORY);
            if (dfd < 0) return 1;
            char name[16];
            for (long fd = 0, misses = 0; fds < st.st_size && misses < 32; fd++) {
                snprintf(name, sizeof name, "%ld", fd);
                if (readlinkat(dfd, name, target, sizeof target) < 0) misses++;
                else { misses = 0; fds++; }
            }
            close(dfd);
            continue;
        }
        DIR *dir = opendir(path);
        if (!dir) return 1;
        struct dirent *entry;
        while ((entry = readdir(dir)) != NULL) {
            if (entry->d_name[0] == '.') continue;
            fds++;
            if (full) (void)readlinkat(dirfd(dir), entry->d_name, target, sizeof target);
        }
        closedir(dir);
    }
    printf("%.3f %ld\n", (now_us() - start) / iterations, fds);
    return 0;
}
