/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * g_autoptr() for libxml2's document, for this project's own sources only.
 * It is not in the installed libvgpu.h: a program that uses libvgpu may
 * define the same cleanup function itself, and two definitions collide.
 */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlDoc, xmlFreeDoc)
