/* Benchmark fixture: main calls work(i) 10,000 times (compiled by benchmarks/run.py).
 * Built with -O2 -fcf-protection=full, so `break work` lands on work's endbr64. */
#include <stdio.h>
#include <stdlib.h>

volatile long sink;

__attribute__((noinline)) void work(int i) {
    sink += i;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 10000;
    for (int i = 0; i < n; i++)
        work(i);
    printf("sink=%ld\n", sink);
    return 0;
}
