// Makes every fsync/fdatasync take FSYNC_DELAY_US microseconds longer (default 2000), to measure
// the bot as it would run on a typical VPS network volume, whose flushes take milliseconds.
// Build and use (see README, Benchmarks):
//   gcc -shared -fPIC -O2 -o /tmp/fsync-delay.so bench/slow-disk/fsync-delay.c -ldl
//   LD_PRELOAD=/tmp/fsync-delay.so npm run bench -- webhook
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>

static void delay(void) {
  static long us = -1;
  if (us < 0) {
    const char *v = getenv("FSYNC_DELAY_US");
    us = v ? atol(v) : 2000;
  }
  struct timespec t = { us / 1000000, (us % 1000000) * 1000 };
  nanosleep(&t, NULL);
}

int fsync(int fd) {
  static int (*real)(int);
  if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  int r = real(fd);
  delay();
  return r;
}

int fdatasync(int fd) {
  static int (*real)(int);
  if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  int r = real(fd);
  delay();
  return r;
}
