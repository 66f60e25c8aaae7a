/* SPDX-License-Identifier: GPL-2.0-or-later */
typedef struct { unsigned char b[16]; } guid_t;
