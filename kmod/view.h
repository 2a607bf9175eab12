/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The view: a read-only copy of the names every host process may see, in
 * shared memory, searched by processes with no system call. The layout is
 * in uapi/linux/kreg.h. It listens to the table's changes and keeps itself
 * up to date; nothing else calls into it.
 */
#ifndef _KREG_VIEW_H
#define _KREG_VIEW_H

/* After the table is ready; before any request. */
int kreg_view_init(void);
/* After the table is empty and nothing can change it any more. */
void kreg_view_exit(void);

#endif /* _KREG_VIEW_H */
