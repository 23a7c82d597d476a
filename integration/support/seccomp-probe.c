/* Calls raw syscalls and prints what each returned, for the seccomp tests
 * (built static by integration/tests/seccomp.test.ts, run in busybox):
 *   seccomp-probe NR...    one line per NR: "NR ok" or "NR errno E" */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		long nr = strtol(argv[i], NULL, 0);
		/* zero arguments: harmless (or EINVAL/EFAULT) for the calls probed */
		long r = syscall(nr, 0, 0, 0, 0, 0, 0);
		if (r < 0)
			printf("%ld errno %d\n", nr, errno);
		else
			printf("%ld ok\n", nr);
	}
	return 0;
}
