/*
 * Built into cairn-ext.so only: the build it belongs to (core/ext.h).
 */
#include "core/ext.h"

extern const char cairn_ext_abi[];
const char cairn_ext_abi[] = CAIRN_ABI;
