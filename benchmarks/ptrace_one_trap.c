/* A breakpoint loop with one trap per hit: the displaced instruction is emulated.
 *
 * Usage: ptrace_one_trap [--poll] WORK_ADDR ENTRY_ADDR PROG [ARGS...]
 * Like ptrace_two_traps, but the int3 stays in place: on each hit the displaced
 * `endbr64` (rip += 4) or `push %rbp` (rsp -= 8, store rbp, rip += 1) is done here, then
 * the program continues. Any other instruction at WORK_ADDR is refused.
 * --poll: waitpid(WNOHANG) in a loop instead of blocking, as pydbg polls before it blocks
 * (a blocked tracer leaves its CPU idle, and waking it costs more than the round trip).
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

static unsigned long load_bias(pid_t pid, unsigned long entry) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/auxv", pid);
    int fd = open(path, O_RDONLY);
    Elf64_auxv_t aux;
    unsigned long bias = 0;
    while (fd >= 0 && read(fd, &aux, sizeof aux) == sizeof aux) {
        if (aux.a_type == AT_ENTRY) { bias = aux.a_un.a_val - entry; break; }
    }
    if (fd >= 0) close(fd);
    return bias;
}

int main(int argc, char **argv) {
    int poll = argc > 1 && strcmp(argv[1], "--poll") == 0;
    if (poll) { argv++; argc--; }
    if (argc < 4) { fprintf(stderr, "usage: %s [--poll] WORK_ADDR ENTRY_ADDR PROG [ARGS...]\n", argv[0]); return 2; }
    unsigned long work = strtoul(argv[1], NULL, 0), entry = strtoul(argv[2], NULL, 0);
    pid_t pid = fork();
    if (pid == 0) {
        personality(ADDR_NO_RANDOMIZE);
        ptrace(PTRACE_TRACEME, 0, 0, 0);
        execv(argv[3], argv + 3);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    unsigned long addr = work + load_bias(pid, entry);
    errno = 0;
    long orig = ptrace(PTRACE_PEEKTEXT, pid, (void *)addr, 0);
    if (errno) { perror("peek"); return 1; }
    int is_endbr = (orig & 0xffffffffL) == 0xfa1e0ff3L, is_push_rbp = (orig & 0xff) == 0x55;
    if (!is_endbr && !is_push_rbp) {
        fprintf(stderr, "instruction at %#lx is neither endbr64 nor push %%rbp\n", addr);
        kill(pid, SIGKILL);
        return 1;
    }
    ptrace(PTRACE_POKETEXT, pid, (void *)addr, (void *)((orig & ~0xffL) | 0xcc));
    long hits = 0;
    ptrace(PTRACE_CONT, pid, 0, 0);
    for (;;) {
        if (poll) { while (waitpid(pid, &status, WNOHANG) == 0) ; }
        else waitpid(pid, &status, 0);
        if (WIFEXITED(status) || WIFSIGNALED(status)) break;
        if (WSTOPSIG(status) != SIGTRAP) { ptrace(PTRACE_CONT, pid, 0, (void *)(long)WSTOPSIG(status)); continue; }
        struct user_regs_struct regs;
        ptrace(PTRACE_GETREGS, pid, 0, &regs);
        if (regs.rip - 1 != addr) { ptrace(PTRACE_CONT, pid, 0, 0); continue; }
        hits++;
        if (is_endbr) {
            regs.rip = addr + 4;
        } else {
            regs.rsp -= 8;
            ptrace(PTRACE_POKEDATA, pid, (void *)regs.rsp, (void *)regs.rbp);
            regs.rip = addr + 1;
        }
        ptrace(PTRACE_SETREGS, pid, 0, &regs);
        ptrace(PTRACE_CONT, pid, 0, 0);
    }
    fprintf(stderr, "hits=%ld\n", hits);
    return 0;
}
