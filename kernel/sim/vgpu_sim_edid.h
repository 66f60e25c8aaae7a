/* SPDX-License-Identifier: GPL-2.0-only */
/* vgpu_sim EDID generator (see vgpu_sim_edid.c); pure logic. */
#ifndef VGPU_SIM_EDID_H
#define VGPU_SIM_EDID_H

#ifndef __KERNEL__
#include <stdint.h>
typedef uint8_t u8;
typedef uint16_t u16;
#endif

#define VSIM_EDID_SIZE	128

void vsim_edid_build(u8 edid[VSIM_EDID_SIZE], u16 max_w, u16 max_h);

#endif /* VGPU_SIM_EDID_H */
