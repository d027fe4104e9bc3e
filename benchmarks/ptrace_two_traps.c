/* The classic breakpoint loop: two traps per hit.
 *
 * Usage: ptrace_two_traps WORK_ADDR ENTRY_ADDR PROG [ARGS...]
 * WORK_ADDR and ENTRY_ADDR are file addresses (nm / e_entry); the load bias comes from
 * AT_ENTRY in /proc/PID/auxv. Each hit: int3 trap, restore the byte, rewind rip,
 * PTRACE_SINGLESTEP (second trap), re-insert int3, continue. Prints the hit count.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
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
    if (argc < 4) { fprintf(stderr, "usage: %s WORK_ADDR ENTRY_ADDR PROG [ARGS...]\n", argv[0]); return 2; }
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
    long patched = (orig & ~0xffL) | 0xcc;
    ptrace(PTRACE_POKETEXT, pid, (void *)addr, (void *)patched);
    long hits = 0;
    ptrace(PTRACE_CONT, pid, 0, 0);
    for (;;) {
        waitpid(pid, &status, 0);
        if (WIFEXITED(status) || WIFSIGNALED(status)) break;
        if (WSTOPSIG(status) != SIGTRAP) { ptrace(PTRACE_CONT, pid, 0, (void *)(long)WSTOPSIG(status)); continue; }
        struct user_regs_struct regs;
        ptrace(PTRACE_GETREGS, pid, 0, &regs);
        if (regs.rip - 1 != addr) { ptrace(PTRACE_CONT, pid, 0, 0); continue; }
        hits++;
        regs.rip = addr;
        ptrace(PTRACE_SETREGS, pid, 0, &regs);
        ptrace(PTRACE_POKETEXT, pid, (void *)addr, (void *)orig);
        ptrace(PTRACE_SINGLESTEP, pid, 0, 0);
        waitpid(pid, &status, 0);
        if (WIFEXITED(status) || WIFSIGNALED(status)) break;
        ptrace(PTRACE_POKETEXT, pid, (void *)addr, (void *)patched);
        ptrace(PTRACE_CONT, pid, 0, 0);
    }
    fprintf(stderr, "hits=%ld\n", hits);
    return 0;
}
