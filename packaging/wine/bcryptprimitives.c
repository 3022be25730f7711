/*
 * A stand-in bcryptprimitives.dll for testing under Wine 8 (Debian 12),
 * which lacks the DLL. Go 1.22 and later need its ProcessPrng at start-up
 * ("fatal error: bcryptprimitives.dll not found"). Real Windows 10 and 11
 * have it; this is never shipped. packaging/test-package.sh builds it with
 * MinGW into a scratch Wine prefix's system32 only when Wine has none:
 *   x86_64-w64-mingw32-gcc -shared -O2 -o bcryptprimitives.dll bcryptprimitives.c
 */
#include <windows.h>

/* RtlGenRandom, exported by advapi32 as SystemFunction036. */
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
	while (length > 0) {
		ULONG n = length > 0x40000000 ? 0x40000000 : (ULONG)length;
		if (!SystemFunction036(data, n))
			return FALSE;
		data += n;
		length -= n;
	}
	return TRUE;
}
