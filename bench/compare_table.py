"""Prints compare.sh's markdown tables from its results.tsv.

  python3 bench/compare_table.py results.tsv ANCHOR_WORKERS PW_WORKERS SCALE_WORKERS \
      EVENTS SCALE_EVENTS MESSAGES SCALE_MESSAGES
"""
import csv
import sys

LABELS = {
    "health": "GET /health",
    "history": "GET chat history",
    "upcoming": "GET upcoming (limit 10, days 7)",
    "busy": "POST schedule dry run (busy time)",
    "chat_0ms": "POST /chat, model 0 ms, new session each",
    "chat_200ms": "POST /chat, model 200 ms",
    "breakdown_200ms": "POST breakdown, model 200 ms",
    "plan_200ms": "POST /plans, model 200 ms",
}
IDEAL_200MS = 64 / 0.2  # wrk -c64, 200 ms per request


def main():
    path, anchor_w, pw_w, scale_w, events, scale_events, messages, scale_messages = sys.argv[1:9]
    rows = list(csv.DictReader(open(path), delimiter="\t"))
    anchor_w, pw_w, scale_w = anchor_w.split(), pw_w.split(), scale_w.split()

    def find(system, workers, row, data=None):
        for r in rows:
            if r["system"] == system and r["workers"] == workers and r["row"] == row:
                if data is None or r["data"] == data:
                    return r
        return None

    def rps(r):
        return float(r["rps"]) if r else None

    def fmt(value):
        return f"{value:,.0f}" if value is not None else "–"

    base_data = {"history": messages}
    order = [r for r in LABELS if any(x["row"] == r for x in rows)]
    heads = [f"FastAPI {w}w" for w in anchor_w] + [f"Planwright {w}w" for w in pw_w]
    last_a, last_p = anchor_w[-1], pw_w[-1]
    print(f"| scenario | {' | '.join(heads)} | Planwright {last_p}w ÷ FastAPI {last_a}w | "
          f"p99 Planwright {last_p}w | peak RSS Planwright (MiB) | errors |")
    print("|---" * (len(heads) + 5) + "|")
    for row in order:
        data = base_data.get(row, events)
        cells = [fmt(rps(find("anchor", w, row))) for w in anchor_w]
        cells += [fmt(rps(find("planwright", w, row, data))) for w in pw_w]
        a, p = rps(find("anchor", last_a, row)), rps(find("planwright", last_p, row, data))
        ratio = f"{p / a:.1f}×" if a and p else "–"
        if row.endswith("_200ms") and p:
            ratio += f" ({p / IDEAL_200MS:.0%} of {IDEAL_200MS:.0f} rps ideal)"
        pr = find("planwright", last_p, row, data)
        p99 = f"{float(pr['p99_ms']):.1f} ms" if pr and pr["p99_ms"] else "–"
        rss = [float(x["rss_mib"]) for x in rows if x["system"] == "planwright" and x["row"] == row
               and x["data"] == data]
        errors = sum(int(x["errors"]) for x in rows if x["row"] == row)
        label = LABELS[row] + (f" ({data} msgs)" if row == "history" else "")
        if row == "health":
            hello = [rps(find("hello", w, "health")) for w in pw_w]
            if any(hello):
                label += " (bare actix-web: " + " / ".join(fmt(h) for h in hello) + ")"
                if hello[-1] and p:
                    ratio += f"; {p / hello[-1]:.0%} of bare actix-web"
        print(f"| {label} | {' | '.join(cells)} | {ratio} | {p99} | "
              f"{max(rss) if rss else '–'} | {errors} |")

    scale = [("upcoming", events, scale_events, "events"), ("busy", events, scale_events, "events"),
             ("history", messages, scale_messages, "messages")]
    lines = []
    for w in scale_w:
        for row, small, large, unit in scale:
            s, l = find("planwright", w, row, small), find("planwright", w, row, large)
            if not (s or l):
                continue
            ratio = f"{rps(l) / rps(s):.0%}" if s and l and rps(s) else "–"
            lines.append(f"| {LABELS[row]} | {w} | {fmt(rps(s))} at {int(small):,} {unit} | "
                         f"{fmt(rps(l))} at {int(large):,} {unit} | {ratio} | "
                         f"{l['p99_ms'] if l else '–'} ms | {l['rss_mib'] if l else '–'} |")
    if lines:
        print()
        print("| scale row (Planwright) | workers | requests/s, base | requests/s, scaled | scaled ÷ base | "
              "p99 scaled | peak RSS scaled (MiB) |")
        print("|---|---|---|---|---|---|---|")
        print("\n".join(lines))


if __name__ == "__main__":
    main()
