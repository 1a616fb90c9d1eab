/*
 * crc32.h — CRC-32 (IEEE 802.3, as zlib's crc32()), the checksum of the
 * spool's header and slots. Eight bytes at a time (slicing-by-8): the out
 * direction checksums every message it takes.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* CRC continued over DATA (0 to start). crc32_add(0, "123456789", 9) == 0xCBF43926. */
uint32_t crc32_add(uint32_t crc, const void *data, size_t len);
