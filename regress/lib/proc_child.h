/*
 * What proc_test and its child, proc_child, say to each other.  The
 * types lie above every real one so that nothing mistakes them.
 */

#ifndef PROC_CHILD_H
#define PROC_CHILD_H

#define PT_NAME		"proc_child"

enum pt_type {
	PT_PING = 1000,		/* parent: answer with PT_PONG */
	PT_PONG,		/* child: its pid_t, peerid echoed */
	PT_ARGS,		/* parent: answer with PT_ARGS_REPLY */
	PT_ARGS_REPLY,		/* child: "d=%d v=%d S=%d H=%s" */
	PT_WRITE_FD,		/* parent, fd: write "child" to it */
	PT_GARBAGE,		/* parent: send a malformed header, hang */
	PT_UNKNOWN		/* a type the child refuses */
};

#endif /* PROC_CHILD_H */
