// SPDX-License-Identifier: MIT
// nsfun – umbrella header: everything public.
#pragma once

#include <nsfun/acquire.hpp>
#include <nsfun/capabilities.hpp>
#include <nsfun/cgroup.hpp>
#include <nsfun/container_fs.hpp>
#include <nsfun/enter.hpp>
#include <nsfun/error.hpp>
#include <nsfun/format.hpp>
#include <nsfun/monitor.hpp>
#include <nsfun/mount.hpp>
#include <nsfun/named_set.hpp>
#include <nsfun/namespace.hpp>
#include <nsfun/ns_fd.hpp>
#include <nsfun/ns_type.hpp>
#include <nsfun/persist.hpp>
#include <nsfun/pidfd.hpp>
#include <nsfun/proc_scan.hpp>
#include <nsfun/seccomp.hpp>
#include <nsfun/snapshot.hpp>
#include <nsfun/spawn.hpp>
#include <nsfun/time_ns.hpp>
#include <nsfun/unique_fd.hpp>
#include <nsfun/user_map.hpp>
#include <nsfun/version.hpp>
