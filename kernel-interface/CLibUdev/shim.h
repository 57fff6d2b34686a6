/* libudev for Swift: device enumeration, attributes and the hotplug monitor. */
#ifndef VTA_CLIBUDEV_SHIM_H
#define VTA_CLIBUDEV_SHIM_H
#include <libudev.h>
#endif
