/*
 * banned.h - libc calls this project does not use. Included last by
 * daigou.h, after every system header, so a use is a compile error.
 *
 * strcpy/strcat/sprintf/vsprintf: no bound; use snprintf or
 * dg_xsnprintf. strtok: hidden state; use strtok_r or strsep.
 * gets: no bound. gmtime/localtime: static buffer; use gmtime_r.
 * atoi/atof: no error detection (and atof is floating point).
 */
#ifndef DG_BANNED_H
#define DG_BANNED_H

#define DG_BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) DG_BANNED(strcpy)
#undef strcat
#define strcat(x, y) DG_BANNED(strcat)
#undef sprintf
#define sprintf(...) DG_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) DG_BANNED(vsprintf)
#undef strtok
#define strtok(x, y) DG_BANNED(strtok)
#undef gets
#define gets(x) DG_BANNED(gets)
#undef gmtime
#define gmtime(x) DG_BANNED(gmtime)
#undef localtime
#define localtime(x) DG_BANNED(localtime)
#undef atoi
#define atoi(x) DG_BANNED(atoi)
#undef atof
#define atof(x) DG_BANNED(atof)

#endif
