/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Only pointers to these types are used by the code under test. */
struct device;
struct module;
struct page;
