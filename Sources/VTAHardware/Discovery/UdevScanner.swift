import CLibUdev
import Glibc

/// Enumerates devices through libudev (spec §4.2): the live system with udevd running, where udev
/// also knows each node's final path. Produces the same records as `SysfsScanner`.
///
/// A libudev context is not thread-safe; each scan makes and drops its own.
struct UdevScanner: DeviceScanner {
    var method: DiscoveryMethod { .udev }

    func scan(subsystem: String) -> [DeviceRecord] {
        guard let udev = udev_new() else { return [] }
        defer { udev_unref(udev) }
        guard let enumerate = udev_enumerate_new(udev) else { return [] }
        defer { udev_enumerate_unref(enumerate) }
        guard udev_enumerate_add_match_subsystem(enumerate, subsystem) >= 0,
              udev_enumerate_scan_devices(enumerate) >= 0 else { return [] }
        var records: [DeviceRecord] = []
        // udev_list_entry_foreach is a macro; walk the list by hand.
        var entry = udev_enumerate_get_list_entry(enumerate)
        while let current = entry {
            if let name = udev_list_entry_get_name(current),
               let device = udev_device_new_from_syspath(udev, name) {
                records.append(Self.record(device, subsystem: subsystem))
                udev_device_unref(device)
            }
            entry = udev_list_entry_get_next(current)
        }
        return records.sorted { DiscoverySchema.naturalOrder($0.sysname, $1.sysname) }
    }

    /// The record of one device (the device stays owned by the caller).
    static func record(_ device: OpaquePointer, subsystem: String) -> DeviceRecord {
        let syspath = string(udev_device_get_syspath(device)) ?? ""
        var attributes: [String: String] = [:]
        for name in DiscoverySchema.attributes(for: subsystem) {
            if let value = string(udev_device_get_sysattr_value(device, name)) {
                attributes[name] = value.trimmingCharacters()
            }
        }
        let present = Set(DiscoverySchema.presence(for: subsystem).filter { HostFiles.exists(syspath + "/" + $0) })
        return DeviceRecord(
            subsystem: subsystem, sysname: string(udev_device_get_sysname(device)) ?? HostFiles.baseName(syspath),
            syspath: syspath, devnode: string(udev_device_get_devnode(device)), attributes: attributes,
            present: present, parent: parent(of: device))
    }

    /// The platform device above `device` (or its direct parent on other buses). Parents are
    /// owned by the child in libudev: no unref.
    private static func parent(of device: OpaquePointer) -> ParentDevice? {
        guard let parent = udev_device_get_parent_with_subsystem_devtype(device, "platform", nil)
                ?? udev_device_get_parent(device) else { return nil }
        var properties: [String: String] = [:]
        var entry = udev_device_get_properties_list_entry(parent)
        while let current = entry {
            if let key = string(udev_list_entry_get_name(current)) {
                properties[key] = string(udev_list_entry_get_value(current)) ?? ""
            }
            entry = udev_list_entry_get_next(current)
        }
        return ParentDevice(sysname: string(udev_device_get_sysname(parent)) ?? "",
                            driver: string(udev_device_get_driver(parent)) ?? properties["DRIVER"],
                            ofCompatible: DiscoverySchema.ofCompatible(fromUevent: properties), ofName: properties["OF_NAME"])
    }

    private static func string(_ pointer: UnsafePointer<CChar>?) -> String? { pointer.map { String(cString: $0) } }
}
