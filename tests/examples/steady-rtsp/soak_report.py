"""The steady-rtsp soak's side-by-side table (leakwatch's JSON is read by
../common/steady_soak/leakwatch.py)."""

from steady_soak.report import closing_rows, print_side_by_side as print_table, process_rows


def print_side_by_side(results):
    rows = [
        ("cycles (clients)", lambda r: f"{r.clients} ({r.killed} killed)"),
        ("clean decodes", lambda r: f"{r.clean}/{r.clients - r.killed}"),
        ("clients with decode errors", lambda r: str(r.decode_error_clients)),
        ("normal fps next to throttled", lambda r: " / ".join(f"{x:.1f}" for x in
                                                               r.throttle_rates)),
        ("stalled client evicted after", lambda r: "never" if r.evicted_after is None
         else f"{r.evicted_after:.1f} s"),
    ] + process_rows() + [
        ("media freed/created", lambda r: f"{r.final.get('media-freed')}/"
         f"{r.final.get('media-created')}"),
        ("/transcode encoder reuse", lambda r: f"{r.reuse:.2f}"),
    ] + closing_rows()
    print_table(results, rows, 26)
