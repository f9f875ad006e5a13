/*
 * msgload.c - a message of the store as the MAPI server shows it: the
 * Internet message parsed by mapi_mail_parse (MS-OXCMAIL), with the
 * properties a store adds to what the message says of itself.
 *
 * Specs: MS-OXCMSG 2.2.1.6 (PidTagMessageFlags), 2.2.1.7
 * (PidTagMessageSize); MS-OXOFLAG 2.2.1.1 (PidTagFlagStatus); MS-OXOMSG
 * 2.2.1.1 (PidTagIconIndex), 2.2.1.33 (PidTagLastVerbExecuted);
 * MS-OXCPRPT 2.2.1.9 (PidTagSearchKey); Maildir's info letters
 * (https://cr.yp.to/proto/maildir.html).
 *
 * The Maildir flags live in the file's name and its times in its inode,
 * not in its bytes; this is where they become properties.  The items of
 * contacts and calendar folders are read by pimload.c instead.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maildir-name.h"
#include "wire/mapi-mail.h"
#include "wire/mapi-tags.h"
#include "mapid-private.h"

/* MS-OXOFLAG 2.2.1.1 and MS-OXOMSG 2.2.1.33, 2.2.1.1. */
#define FLAG_STATUS_FLAGGED	2
#define VERB_REPLY_TO_SENDER	102
#define VERB_FORWARD		104
#define ICON_REPLIED		0x105
#define ICON_FORWARDED		0x106

void mapid_msg_store_props(struct mapi_message *m, uint64_t flags,
			   int64_t delivered, int64_t modified,
			   const void *buf, size_t len)
{
	struct mapi_props *p = &m->props;
	uint32_t mf = (uint32_t)mapi_props_l(p, MAPI_TAG_ID(
					MAPI_TAG_MESSAGE_FLAGS), 0);
	GChecksum *ck = g_checksum_new(G_CHECKSUM_MD5);
	uint8_t key[16];
	gsize key_len = sizeof(key);

	mf &= MAPI_MSGFLAG_HASATTACH;
	if (flags & MFS_FLAG_SEEN)
		mf |= MAPI_MSGFLAG_READ | MAPI_MSGFLAG_EVERREAD;
	if (flags & MFS_FLAG_DRAFT)
		mf |= MAPI_MSGFLAG_UNSENT;
	mapi_props_set_l(p, MAPI_TAG_MESSAGE_FLAGS, (int32_t)mf);
	mapi_props_set_b(p, MAPI_TAG_HAS_ATTACHMENTS,
			 (mf & MAPI_MSGFLAG_HASATTACH) != 0);
	mapi_props_set_l(p, MAPI_TAG_MESSAGE_SIZE,
			 len > INT32_MAX ? INT32_MAX : (int32_t)len);
	if (flags & MFS_FLAG_FLAGGED)
		mapi_props_set_l(p, MAPI_TAG_FLAG_STATUS,
				 FLAG_STATUS_FLAGGED);
	else
		mapi_props_remove(p, MAPI_TAG_ID(MAPI_TAG_FLAG_STATUS));
	/* R and P both set: the later act is not known; a reply is what
	 * mail readers show */
	if (flags & MFS_FLAG_REPLIED) {
		mapi_props_set_l(p, MAPI_TAG_LAST_VERB_EXECUTED,
				 VERB_REPLY_TO_SENDER);
		mapi_props_set_l(p, MAPI_TAG_ICON_INDEX, ICON_REPLIED);
	} else if (flags & MFS_FLAG_PASSED) {
		mapi_props_set_l(p, MAPI_TAG_LAST_VERB_EXECUTED,
				 VERB_FORWARD);
		mapi_props_set_l(p, MAPI_TAG_ICON_INDEX, ICON_FORWARDED);
	}
	mapi_props_set_ft(p, MAPI_TAG_MESSAGE_DELIVERY_TIME,
			  mapi_ft_from_unix(delivered));
	mapi_props_set_ft(p, MAPI_TAG_LAST_MODIFICATION_TIME,
			  mapi_ft_from_unix(modified));
	if (!mapi_props_get(p, MAPI_TAG_ID(MAPI_TAG_CREATION_TIME)))
		mapi_props_set_ft(p, MAPI_TAG_CREATION_TIME,
				  mapi_ft_from_unix(delivered));
	/* the bytes never change in the store: their digest is a key that
	 * two copies of one message share, as PidTagSearchKey should */
	g_checksum_update(ck, buf, len);
	g_checksum_get_digest(ck, key, &key_len);
	g_checksum_free(ck);
	mapi_props_set_bin(p, MAPI_TAG_SEARCH_KEY, key, key_len);
}

int mapid_msg_parse(const void *buf, size_t len, uint64_t flags,
		    int64_t delivered, int64_t modified,
		    struct mapi_message **m_r)
{
	struct mapi_message *m = NULL;
	int err;

	if (len > MAPID_MSG_MAX)
		return -EFBIG;
	err = mapi_mail_parse(buf, len, &m);
	if (err < 0)
		return err;
	mapid_msg_store_props(m, flags, delivered, modified, buf, len);
	*m_r = m;
	return 0;
}

int mapid_msg_load_fd(int fd, uint64_t flags, struct mapi_message **m_r)
{
	return mapid_item_load_fd(fd, flags, MFS_FOLDER_MAIL, m_r);
}

int mapid_item_load_fd(int fd, uint64_t flags, enum mfs_folder_kind kind,
		       struct mapi_message **m_r)
{
	struct stat st;
	uint8_t *buf;
	size_t len = 0;
	int err;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if ((uint64_t)st.st_size > MAPID_MSG_MAX)
		return -EFBIG;
	buf = g_malloc((size_t)st.st_size + 1);
	while (len < (size_t)st.st_size) {
		ssize_t n = pread(fd, buf + len, (size_t)st.st_size - len,
				  (off_t)len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			g_free(buf);
			return err;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	/* ctime moves when the file is renamed for a flag: the message's
	 * last change as MAPI sees it */
	if (mapid_kind_pim(kind))
		err = mapid_pim_parse(buf, len, kind, (int64_t)st.st_mtime,
				      (int64_t)MAX(st.st_mtime, st.st_ctime),
				      m_r);
	else
		err = mapid_msg_parse(buf, len, flags, (int64_t)st.st_mtime,
				      (int64_t)MAX(st.st_mtime, st.st_ctime),
				      m_r);
	g_free(buf);
	return err;
}

int mapid_msg_load(const char *path, struct mapi_message **m_r)
{
	g_autofree char *base = g_path_get_basename(path);
	g_autofree char *id = NULL;
	uint64_t flags = 0;
	int fd, err;

	if (maildir_name_parse(base, &id, &flags) < 0)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = mapid_msg_load_fd(fd, flags, m_r);
	close(fd);
	return err;
}
