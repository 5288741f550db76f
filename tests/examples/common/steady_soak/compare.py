"""Growth between two /proc snapshots (proc.proc_snapshot) of the server: each returns
(ok, detail) for a soak check."""


def fd_growth(before, after):
    """ok when no descriptor class holds more descriptors after than before."""
    grown = {k: after["fds"].get(k, 0) - before["fds"].get(k, 0)
             for k in set(after["fds"]) | set(before["fds"])}
    return (all(v <= 0 for v in grown.values()),
            ", ".join(f"{k} {before['fds'].get(k, 0)}->{after['fds'].get(k, 0)}"
                      for k in sorted(grown)))


def thread_growth(before, after):
    """ok when no thread name class has more threads after than before."""
    grown = {k: after["threads"].get(k, 0) - before["threads"].get(k, 0)
             for k in set(after["threads"]) | set(before["threads"])}
    return (all(v <= 0 for v in grown.values()),
            ", ".join(f"{k} +{v}" for k, v in sorted(grown.items()) if v > 0) or
            f"{sum(before['threads'].values())} -> {sum(after['threads'].values())}")


def rss_detail(slope_mib_per_min, before, after):
    """The RSS slope and the RSS from one snapshot to the other, in words."""
    return (f"{slope_mib_per_min:+.2f} MiB/min; {before['rss'] / 2**20:.1f} -> "
            f"{after['rss'] / 2**20:.1f} MiB from warm-up to end")
