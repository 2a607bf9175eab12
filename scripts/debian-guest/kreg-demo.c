// SPDX-License-Identifier: GPL-2.0
/*
 * A small service, built in the guest against the installed libkreg with
 * pkg-config: it holds NAME and answers what is sent to it, until stopped.
 */
#include <kreg.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	static struct kreg_message msg;
	struct kreg_conn *c;
	int err;

	/* Its output goes to the journal through a pipe: a line at a time. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 2) {
		fprintf(stderr, "usage: kreg-demo NAME\n");
		return 2;
	}
	err = kreg_open(&c);
	if (!err)
		err = kreg_register(c, argv[1], 0, NULL);
	if (err) {
		fprintf(stderr, "kreg-demo: %s: %s\n", argv[1], kreg_strerror(err));
		return 1;
	}
	printf("kreg-demo: holding %s\n", argv[1]);
	while (kreg_recv(c, &msg, -1) == 0)
		printf("kreg-demo: %.*s\n", (int)msg.len, (const char *)msg.data);
	return 0;
}
