/* SPDX-License-Identifier: GPL-2.0 */
/* The release of kreg.ko, as /sys/module/kreg/version and modinfo say it. */
#ifndef _KREG_VERSION_H
#define _KREG_VERSION_H

#define KREG_VERSION	"0.13.0"

#endif /* _KREG_VERSION_H */
