#ifndef CAIRN_BANNED_H
#define CAIRN_BANNED_H
/*
 * Functions that are too easy to misuse. Included into every translation
 * unit by the Makefile, so using one is a compile error. Use strbuf,
 * snprintf with a checked result, or memcpy with a known length instead.
 */
#include <string.h>
#include <stdio.h>

#define BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) BANNED(strncat)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef gets
#define gets(x) BANNED(gets)
#undef strtok
#define strtok(x, y) BANNED(strtok)

#endif
