/* libdrm for Swift: finding the zocl render node (drmGetDevices2, drmGetVersion), EINTR-safe
 * drmIoctl and PRIME handle/fd conversion. Nothing from KMS. */
#ifndef VTA_CLIBDRM_SHIM_H
#define VTA_CLIBDRM_SHIM_H
#include <xf86drm.h>
#endif
