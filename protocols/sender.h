/*
 * sender.h - the account's way to send a message: the Outbox of the cache
 * hands each message to it.  An account sends through its `smtp` server
 * (protocols/smtp/submit.h); the store it reads (backend.h) knows nothing
 * of it, and the cache sees only this interface, never a protocol.
 *
 * The program puts it together with the store (src/main.c) and checks it
 * in `mailfs check` (src/check-cmd.c).  A sender is used by one thread at
 * a time.  Functions return 0 or -errno; failures are described in struct
 * mfs_error (backend.h).
 */
#ifndef MFS_SENDER_H
#define MFS_SENDER_H

#include <glib.h>
#include <stdbool.h>

#include "backend.h"

struct mfs_sender;		/* opaque */
struct mfs_check;

/* The account's settings for sending, read without touching the network.
 * *s_r (caller owns, close with mfs_sender_close) is NULL when the account
 * names no server to send with.  -EINVAL with the reason in *err for
 * settings that cannot work. */
int mfs_sender_open(const struct mfs_account *acct, struct mfs_sender **s_r,
		    GError **err);
void mfs_sender_close(struct mfs_sender **s);

/*
 * Send the message in `fd` (read from offset 0 to its end).  On failure
 * *maybe_sent_r tells whether the server may have taken it all the same:
 * such a message must not be sent again blindly.  A message refused for
 * good fails with MFS_ERR_FINAL and the reason in e->msg; so does any
 * message when `s` is NULL (the account has nothing to send with).
 */
int mfs_sender_send(struct mfs_sender *s, int fd, bool *maybe_sent_r,
		    struct mfs_error *e);

/* No message waits to be sent for now: the connection the sends left
 * open for the next is closed.  Messages sent one after the other without
 * this between share a connection (a batch); this is no failure when
 * forgotten, only a connection held until the server drops it. */
void mfs_sender_idle(struct mfs_sender *s);

/* What it sends through and its last outcome, for .mailfs/status. */
void mfs_sender_describe(struct mfs_sender *s, GString *out);

/* `mailfs check`: reach the server and log in as a sending would, sending
 * nothing, each step said through `ck`.  Returns 0 when every step
 * worked, else -errno. */
int mfs_sender_check(struct mfs_sender *s, struct mfs_check *ck);

#endif
