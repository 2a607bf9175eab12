/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KREG_EXIT_H
#define _KREG_EXIT_H

int kreg_exit_init(void);

#endif /* _KREG_EXIT_H */
