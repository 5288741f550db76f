// The HTML report: one self-contained page (inline CSS, SVG and JavaScript, no network).
#include "leakwatch-report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace leakwatch {

namespace {

const char *const kPalette[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
constexpr int kW = 920, kH = 250, kL = 72, kR = 18, kT = 14, kB = 28;

enum class Unit { kBytes, kCount };

std::string fmt(double v, Unit u) {
  if (u == Unit::kBytes)
    return human_bytes(v);
  char buf[32];
  if (std::fabs(v - std::round(v)) < 1e-9)
    std::snprintf(buf, sizeof(buf), "%.0f", v);
  else
    std::snprintf(buf, sizeof(buf), "%.2f", v);
  return buf;
}

std::string fmt_time(double s, double span = 1e9) {
  char buf[32];
  if (span < 10)
    std::snprintf(buf, sizeof(buf), "%.*fs", span < 1 ? 2 : 1, s);
  else if (s < 120)
    std::snprintf(buf, sizeof(buf), "%.0fs", s);
  else if (s < 7200)
    std::snprintf(buf, sizeof(buf), "%.0fm", s / 60);
  else if (s < 172800)
    std::snprintf(buf, sizeof(buf), "%.1fh", s / 3600);
  else
    std::snprintf(buf, sizeof(buf), "%.1fd", s / 86400);
  return buf;
}

std::string jnum(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6g", std::isfinite(v) ? v : 0.0);
  return buf;
}

// Axis top: four grid steps of a round size (whole numbers for counts, powers of two
// friendly sizes for bytes).
double nice_max(double v, bool integer) {
  if (v <= 0)
    return integer ? 4 : 1;
  double step = v / 4;
  double p = std::pow(10, std::floor(std::log10(step)));
  double nice = 10 * p;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (step <= m * p) {
      nice = m * p;
      break;
    }
  if (integer)
    nice = std::max(1.0, std::ceil(nice));
  return nice * 4;
}

struct Line {
  std::string label;
  const std::vector<double> *values;
};

// One line chart. data-metric names it for tests and for the hover script.
std::string chart(const std::string &id, const std::string &title, const std::string &subtitle,
                  Unit unit, const std::vector<double> &t, const std::vector<Line> &lines,
                  const std::vector<Alert> &alerts, const std::string &alert_prefix,
                  const std::string &empty_text) {
  std::ostringstream o;
  o << "<section class=\"card chart\" id=\"" << id << "\" data-metric=\"" << id << "\">\n";
  o << "<h2>" << html_escape(title) << "</h2><p class=\"sub\">" << html_escape(subtitle)
    << "</p>\n";
  o << "<svg viewBox=\"0 0 " << kW << " " << kH << "\" class=\"plot\" data-chart=\"" << id
    << "\" role=\"img\" aria-label=\"" << html_escape(title) << "\">\n";
  const double pw = kW - kL - kR, ph = kH - kT - kB;
  double t0 = t.empty() ? 0 : t.front(), t1 = t.empty() ? 1 : t.back();
  if (t1 <= t0)
    t1 = t0 + 1;
  double vmax = 0;
  for (const Line &l : lines)
    for (double v : *l.values)
      vmax = std::max(vmax, v);
  vmax = nice_max(vmax * 1.05, unit == Unit::kCount);
  auto X = [&](double x) { return kL + (x - t0) / (t1 - t0) * pw; };
  auto Y = [&](double y) { return kT + ph - y / vmax * ph; };
  // Grid and axes.
  for (int i = 0; i <= 4; ++i) {
    double v = vmax * i / 4, y = Y(v);
    o << "<line class=\"grid\" x1=\"" << kL << "\" x2=\"" << kW - kR << "\" y1=\"" << jnum(y)
      << "\" y2=\"" << jnum(y) << "\"/>";
    o << "<text class=\"ax\" x=\"" << kL - 6 << "\" y=\"" << jnum(y + 4)
      << "\" text-anchor=\"end\">" << html_escape(fmt(v, unit)) << "</text>\n";
  }
  for (int i = 0; i <= 5; ++i) {
    double x = t0 + (t1 - t0) * i / 5;
    o << "<text class=\"ax\" x=\"" << jnum(X(x)) << "\" y=\"" << kH - 8
      << "\" text-anchor=\"middle\">" << fmt_time(x, t1 - t0) << "</text>";
  }
  o << "\n";
  // Alerts on this chart.
  for (const Alert &a : alerts) {
    if (a.metric.compare(0, alert_prefix.size(), alert_prefix) != 0)
      continue;
    double x = X(a.t_s);
    o << "<line class=\"alert\" x1=\"" << jnum(x) << "\" x2=\"" << jnum(x) << "\" y1=\"" << kT
      << "\" y2=\"" << kT + ph << "\"><title>alert: " << html_escape(a.metric)
      << "</title></line>\n";
  }
  if (t.empty() || lines.empty()) {
    o << "<text class=\"empty\" x=\"" << kW / 2 << "\" y=\"" << kH / 2
      << "\" text-anchor=\"middle\">" << html_escape(empty_text) << "</text>\n";
  }
  for (size_t k = 0; k < lines.size(); ++k) {
    const std::vector<double> &v = *lines[k].values;
    std::ostringstream d;
    for (size_t i = 0; i < v.size() && i < t.size(); ++i)
      d << (i ? "L" : "M") << jnum(X(t[i])) << " " << jnum(Y(v[i]));
    o << "<path class=\"line\" stroke=\"" << kPalette[k % 10] << "\" d=\"" << d.str()
      << "\"><title>" << html_escape(lines[k].label) << "</title></path>\n";
  }
  o << "<line class=\"cursor\" x1=\"0\" x2=\"0\" y1=\"" << kT << "\" y2=\"" << kT + ph
    << "\" visibility=\"hidden\"/>\n";
  o << "</svg>\n<div class=\"legend\">";
  for (size_t k = 0; k < lines.size(); ++k) {
    const std::vector<double> &v = *lines[k].values;
    o << "<span><i style=\"background:" << kPalette[k % 10] << "\"></i>"
      << html_escape(lines[k].label) << " <b>" << html_escape(fmt(v.empty() ? 0 : v.back(), unit))
      << "</b></span>";
  }
  o << "</div><div class=\"tip\" hidden></div>\n";
  // Data for the hover read-out.
  o << "<script type=\"application/json\" class=\"data\">{\"bytes\":"
    << (unit == Unit::kBytes ? "true" : "false") << ",\"x0\":" << jnum(t0) << ",\"x1\":" << jnum(t1)
    << ",\"l\":" << kL << ",\"pw\":" << jnum(pw) << ",\"w\":" << kW << ",\"t\":[";
  for (size_t i = 0; i < t.size(); ++i)
    o << (i ? "," : "") << jnum(t[i]);
  o << "],\"lines\":[";
  for (size_t k = 0; k < lines.size(); ++k) {
    o << (k ? "," : "") << "{\"label\":\"" << json_escape(lines[k].label) << "\",\"color\":\""
      << kPalette[k % 10] << "\",\"v\":[";
    const std::vector<double> &v = *lines[k].values;
    for (size_t i = 0; i < v.size(); ++i)
      o << (i ? "," : "") << jnum(v[i]);
    o << "]}";
  }
  o << "]}</script>\n</section>\n";
  return o.str();
}

// Columns under @prefix, the @limit largest by peak (zero-only columns dropped).
std::vector<Line> pick(const ReportData &d, const std::string &prefix, size_t limit,
                       const std::vector<std::string> &exclude = {}) {
  std::vector<std::pair<double, Line>> found;
  for (const auto &col : d.series) {
    if (col.first.compare(0, prefix.size(), prefix) != 0)
      continue;
    std::string label = col.first.substr(prefix.size());
    if (std::find(exclude.begin(), exclude.end(), label) != exclude.end())
      continue;
    double peak = 0;
    for (double v : col.second)
      peak = std::max(peak, v);
    if (peak <= 0)
      continue;
    found.push_back({peak, Line{label, &col.second}});
  }
  std::stable_sort(found.begin(), found.end(),
                   [](const auto &a, const auto &b) { return a.first > b.first; });
  std::vector<Line> out;
  for (size_t i = 0; i < found.size() && i < limit; ++i)
    out.push_back(found[i].second);
  return out;
}

const char *state_color(int state) {
  switch (state) {
    case 2:
      return "#edc948";  // READY
    case 3:
      return "#4e79a7";  // PAUSED
    case 4:
      return "#59a14f";  // PLAYING
    default:
      return "#bab0ac";  // NULL
  }
}

std::string timeline(const ReportData &d) {
  std::ostringstream o;
  o << "<section class=\"card chart\" id=\"timeline\" data-metric=\"timeline\">\n"
    << "<h2>Pipeline lifecycles</h2><p class=\"sub\">one row per top-level pipeline: "
       "<span class=\"sw\" style=\"background:#edc948\"></span>READY "
       "<span class=\"sw\" style=\"background:#4e79a7\"></span>PAUSED "
       "<span class=\"sw\" style=\"background:#59a14f\"></span>PLAYING "
       "<span class=\"sw\" style=\"background:#bab0ac\"></span>NULL; a red outline marks a "
       "verdict, a hatched tail an object still alive at the end</p>\n";
  const size_t max_rows = 200;
  std::vector<const PipelineInfo *> rows;
  // Problems first, then the most recent ones.
  for (const PipelineInfo &p : d.pipelines)
    if (p.verdict != PipelineVerdict::kOk || p.destroyed_ns < 0)
      rows.push_back(&p);
  for (auto it = d.pipelines.rbegin(); it != d.pipelines.rend() && rows.size() < max_rows; ++it)
    if (it->verdict == PipelineVerdict::kOk && it->destroyed_ns >= 0)
      rows.push_back(&*it);
  if (rows.size() > max_rows)
    rows.resize(max_rows);
  std::sort(rows.begin(), rows.end(),
            [](const PipelineInfo *a, const PipelineInfo *b) { return a->id < b->id; });
  const int row_h = 20, label_w = 170;
  const int h = std::max<int>(60, static_cast<int>(rows.size()) * row_h + 34);
  o << "<svg viewBox=\"0 0 " << kW << " " << h
    << "\" class=\"plot timeline\" data-chart=\"timeline\">\n";
  const double end_s = std::max(d.duration_s, 1e-3);
  const double pw = kW - label_w - kR;
  auto X = [&](double s) { return label_w + s / end_s * pw; };
  for (int i = 0; i <= 5; ++i) {
    double s = end_s * i / 5;
    o << "<line class=\"grid\" x1=\"" << jnum(X(s)) << "\" x2=\"" << jnum(X(s))
      << "\" y1=\"4\" y2=\"" << h - 24 << "\"/><text class=\"ax\" x=\"" << jnum(X(s)) << "\" y=\""
      << h - 8 << "\" text-anchor=\"middle\">" << fmt_time(s, end_s) << "</text>";
  }
  o << "\n";
  if (rows.empty())
    o << "<text class=\"empty\" x=\"" << kW / 2
      << "\" y=\"30\" text-anchor=\"middle\">no "
         "pipeline was created</text>\n";
  for (size_t r = 0; r < rows.size(); ++r) {
    const PipelineInfo &p = *rows[r];
    const double y = 6 + static_cast<double>(r) * row_h;
    const double c = p.created_ns / 1e9;
    const double e = p.destroyed_ns >= 0 ? p.destroyed_ns / 1e9 : end_s;
    o << "<g class=\"pl\"><title>" << html_escape(p.name) << " — " << verdict_name(p.verdict)
      << "</title>";
    o << "<text class=\"lbl\" x=\"" << label_w - 6 << "\" y=\"" << jnum(y + 12)
      << "\" text-anchor=\"end\">" << html_escape(p.name.substr(0, 24)) << "</text>";
    // State segments.
    double seg_start = c;
    int state = 1;
    for (const Transition &tr : p.transitions) {
      double ts = tr.t_ns / 1e9;
      o << "<rect x=\"" << jnum(X(seg_start)) << "\" y=\"" << jnum(y) << "\" width=\""
        << jnum(std::max(0.5, X(ts) - X(seg_start))) << "\" height=\"14\" fill=\""
        << state_color(state) << "\"/>";
      seg_start = ts;
      state = tr.to;
    }
    o << "<rect x=\"" << jnum(X(seg_start)) << "\" y=\"" << jnum(y) << "\" width=\""
      << jnum(std::max(0.5, X(e) - X(seg_start))) << "\" height=\"14\" fill=\""
      << state_color(state) << "\"" << (p.destroyed_ns < 0 ? " class=\"alive\"" : "") << "/>";
    if (p.verdict != PipelineVerdict::kOk || (p.destroyed_ns < 0 && d.final))
      o << "<rect class=\"bad\" x=\"" << jnum(X(c)) << "\" y=\"" << jnum(y) << "\" width=\""
        << jnum(std::max(1.0, X(e) - X(c))) << "\" height=\"14\"/>";
    o << "</g>\n";
  }
  o << "</svg>\n</section>\n";
  return o.str();
}

const char *kStyle = R"CSS(
:root{--bg:#f4f5f7;--card:#fff;--ink:#1f2430;--mute:#6b7280;--line:#e5e7eb;--bad:#d64545;--ok:#2f9e44;--run:#3b6fd4}
*{box-sizing:border-box}body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
header{padding:22px 28px;background:linear-gradient(120deg,#1f2430,#34405a);color:#fff}
header h1{margin:0;font-size:22px;font-weight:600}header p{margin:4px 0 0;color:#c9d1e0}
.badge{display:inline-block;padding:2px 10px;border-radius:12px;font-size:13px;font-weight:600;margin-left:10px;vertical-align:middle}
.badge.clean{background:var(--ok)}.badge.leaks{background:var(--bad)}.badge.running{background:var(--run)}
main{max-width:980px;margin:0 auto;padding:18px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:12px;margin-bottom:14px}
.card{background:var(--card);border-radius:10px;box-shadow:0 1px 3px rgba(0,0,0,.08);padding:14px 16px;margin-bottom:14px;position:relative}
.stat .v{font-size:24px;font-weight:650}.stat .k{color:var(--mute);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.stat.bad .v{color:var(--bad)}
h2{margin:0;font-size:16px}.sub{margin:2px 0 8px;color:var(--mute);font-size:12.5px}
svg.plot{width:100%;height:auto;display:block}
.grid{stroke:var(--line);stroke-width:1}.ax{fill:var(--mute);font-size:11px}
.line{fill:none;stroke-width:2;stroke-linejoin:round}.alert{stroke:var(--bad);stroke-width:1.5;stroke-dasharray:4 3}
.cursor{stroke:#999;stroke-width:1}.empty{fill:var(--mute);font-size:14px}
.lbl{font-size:11.5px;fill:var(--ink)}.bad{fill:none;stroke:var(--bad);stroke-width:2}
rect.alive{fill-opacity:.55}
.legend{display:flex;flex-wrap:wrap;gap:6px 16px;margin-top:6px;font-size:12.5px}
.legend i{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:5px;vertical-align:-1px}
.sw{display:inline-block;width:10px;height:10px;border-radius:2px;margin:0 3px 0 8px;vertical-align:-1px}
.tip{position:absolute;pointer-events:none;background:rgba(31,36,48,.92);color:#fff;padding:6px 9px;border-radius:6px;font-size:12px;white-space:nowrap}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line)}
th{color:var(--mute);font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums}
tr.bad td{color:var(--bad)}.none{color:var(--mute)}
)CSS";

const char *kScript = R"JS(
(function(){
function hb(v){var u=['B','KiB','MiB','GiB','TiB'],i=0;while(Math.abs(v)>=1024&&i<4){v/=1024;i++;}return (i?v.toFixed(1):v.toFixed(0))+' '+u[i];}
document.querySelectorAll('section.chart').forEach(function(sec){
  var js=sec.querySelector('script.data');if(!js)return;var d=JSON.parse(js.textContent);
  var svg=sec.querySelector('svg'),cur=svg.querySelector('.cursor'),tip=sec.querySelector('.tip');
  if(!d.t.length)return;
  svg.addEventListener('mousemove',function(ev){
    var r=svg.getBoundingClientRect(),x=(ev.clientX-r.left)/r.width*d.w;
    var t=d.x0+(x-d.l)/d.pw*(d.x1-d.x0),best=0;
    for(var i=0;i<d.t.length;i++){if(Math.abs(d.t[i]-t)<Math.abs(d.t[best]-t))best=i;}
    var px=d.l+(d.t[best]-d.x0)/(d.x1-d.x0)*d.pw;cur.setAttribute('x1',px);cur.setAttribute('x2',px);cur.setAttribute('visibility','visible');
    var h='<b>+'+d.t[best].toFixed(1)+' s</b>';d.lines.forEach(function(l){var v=l.v[best]||0;h+='<br><span style="color:'+l.color+'">&#9632;</span> '+l.label+': '+(d.bytes?hb(v):v);});
    tip.innerHTML=h;tip.hidden=false;tip.style.left=Math.min(ev.clientX-sec.getBoundingClientRect().left+14,sec.clientWidth-220)+'px';tip.style.top=(ev.clientY-sec.getBoundingClientRect().top+10)+'px';});
  svg.addEventListener('mouseleave',function(){cur.setAttribute('visibility','hidden');tip.hidden=true;});
});})();
)JS";

}  // namespace

std::string to_html(const ReportData &d) {
  std::ostringstream o;
  const char *verdict = !d.final ? "running" : d.has_leaks() ? "leaks" : "clean";
  const char *verdict_text = !d.final ? "running" : d.has_leaks() ? "leaks found" : "clean";
  o << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
       "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
       "<title>leakwatch report, pid "
    << d.pid << "</title><style>" << kStyle << "</style></head><body>\n";
  char buf[256];
  std::snprintf(buf, sizeof(buf), "pid %d &middot; %s observed &middot; %zu samples every %g s",
                d.pid, fmt_time(d.duration_s).c_str(), d.samples, d.params.interval_s);
  o << "<header><h1>leakwatch<span class=\"badge " << verdict << "\">" << verdict_text
    << "</span></h1><p>" << buf
    << (d.final ? " &middot; final report" : " &middot; periodic report")
    << "</p></header>\n<main>\n";

  // Headline numbers.
  size_t leaked = d.final ? d.alive.size() : 0;
  for (const TypeCount &t : d.leaked_count_only())
    leaked += static_cast<size_t>(t.live);
  size_t bad_pipelines = 0;
  for (const PipelineInfo &p : d.pipelines)
    if (p.verdict != PipelineVerdict::kOk || (d.final && p.destroyed_ns < 0))
      bad_pipelines++;
  auto stat = [&](const std::string &k, const std::string &v, bool bad) {
    o << "<div class=\"card stat" << (bad ? " bad" : "") << "\"><div class=\"v\">" << html_escape(v)
      << "</div><div class=\"k\">" << html_escape(k) << "</div></div>";
  };
  o << "<div class=\"cards\">";
  stat(d.final ? "objects leaked" : "objects alive",
       std::to_string(d.final ? leaked : d.alive.size()), d.final && leaked > 0);
  stat("pipelines with problems",
       std::to_string(bad_pipelines) + " / " + std::to_string(d.pipelines.size()),
       bad_pipelines > 0);
  stat("trend alerts", std::to_string(d.alerts.size()), !d.alerts.empty());
  stat("RSS", human_bytes(static_cast<double>(d.last.rss)), false);
  stat("descriptors", std::to_string(d.last.fds_total), false);
  stat("threads", std::to_string(d.last.threads_total), false);
  o << "</div>\n";

  static const std::vector<double> empty;
  auto col = [&](const std::string &name) -> const std::vector<double> & {
    auto it = d.series.find(name);
    return it == d.series.end() ? empty : it->second;
  };
  o << chart("rss", "Resident memory (RSS)", "from /proc/self/statm", Unit::kBytes, d.times,
             {Line{"rss", &col("rss")}}, d.alerts, "rss", "no samples");
  o << chart("fds", "Open descriptors by class",
             "from /proc/self/fd; DRM render/primary nodes, /dev/nvidia*, dmabuf, sockets, pipes, "
             "eventfds, files",
             Unit::kCount, d.times, pick(d, "fds/", 10, {"total"}), d.alerts, "fds/", "no samples");
  o << chart(
      "threads", "Threads by name",
      "from /proc/self/task/*/comm, digits folded to #; the 9 largest groups and the total",
      Unit::kCount, d.times,
      [&] {
        std::vector<Line> l = pick(d, "threads/", 9, {"total"});
        l.insert(l.begin(), Line{"total", &col("threads/total")});
        return l;
      }(),
      d.alerts, "threads/", "no samples");
  {
    std::vector<Line> gpu = pick(d, "gpu/", 8);
    for (const Line &l : pick(d, "nvml", 1))
      gpu.push_back(Line{"nvidia (NVML)", l.values});
    o << chart("gpu", "GPU memory", "DRM fdinfo drm-total/drm-resident per driver; NVIDIA via NVML",
               Unit::kBytes, gpu.empty() ? empty : d.times, gpu, d.alerts, "gpu/",
               "no GPU memory seen (no DRM client with memory statistics, no NVML)");
  }
  o << chart("objects", "Live objects by type", "the 10 types with the most live instances",
             Unit::kCount, d.times, pick(d, "objects/", 10), d.alerts, "objects/", "no samples");
  o << timeline(d);

  // Tables.
  o << "<section class=\"card\"><h2>" << (d.final ? "Leaked objects" : "Objects alive now")
    << "</h2>";
  std::vector<LeakGroup> groups = group_leaks(d);
  if (groups.empty() && d.leaked_count_only().empty()) {
    o << "<p class=\"none\">none</p>";
  } else {
    o << "<table><tr><th>type</th><th class=\"n\">count</th><th>examples</th></tr>";
    for (const LeakGroup &g : groups) {
      o << "<tr" << (d.final ? " class=\"bad\"" : "") << "><td>" << html_escape(g.type)
        << "</td><td class=\"n\">" << g.objects.size() << "</td><td>";
      for (size_t i = 0; i < g.objects.size() && i < 4; ++i) {
        const AliveObject &a = *g.objects[i];
        o << (i ? "; " : "") << html_escape(a.name.empty() ? "(unnamed)" : a.name);
        if (!a.pipeline.empty())
          o << " <span class=\"none\">in " << html_escape(a.pipeline) << "</span>";
      }
      o << "</td></tr>";
    }
    for (const TypeCount &t : d.leaked_count_only())
      o << "<tr class=\"bad\"><td>" << html_escape(t.type) << "</td><td class=\"n\">" << t.live
        << "</td><td>counted only (" << t.created << " created, " << t.destroyed
        << " destroyed)</td></tr>";
    o << "</table>";
  }
  o << "</section>\n";

  o << "<section class=\"card\"><h2>Trend alerts</h2>";
  if (d.alerts.empty()) {
    o << "<p class=\"none\">none</p>";
  } else {
    o << "<table><tr><th>metric</th><th class=\"n\">at</th><th class=\"n\">slope / min</th>"
         "<th class=\"n\">growth</th><th class=\"n\">window</th></tr>";
    for (const Alert &a : d.alerts) {
      std::snprintf(buf, sizeof(buf), "%.4g", a.slope_per_minute);
      std::string slope = buf;
      std::snprintf(buf, sizeof(buf), "%.4g", a.growth);
      o << "<tr class=\"bad\"><td>" << html_escape(a.metric) << "</td><td class=\"n\">+"
        << fmt_time(a.t_s) << "</td><td class=\"n\">" << slope << "</td><td class=\"n\">" << buf
        << "</td><td class=\"n\">" << a.window << " samples</td></tr>";
    }
    o << "</table>";
  }
  o << "</section>\n";

  o << "<section class=\"card\"><h2>Types</h2><table><tr><th>type</th><th class=\"n\">created</th>"
       "<th class=\"n\">destroyed</th><th class=\"n\">live</th><th class=\"n\">peak</th></tr>";
  for (const TypeCount &t : d.types)
    o << "<tr><td>" << html_escape(t.type) << "</td><td class=\"n\">" << t.created
      << "</td><td class=\"n\">" << t.destroyed << "</td><td class=\"n\">" << t.live
      << "</td><td class=\"n\">" << t.peak << "</td></tr>";
  o << "</table></section>\n</main>\n<script>" << kScript << "</script>\n</body></html>\n";
  return o.str();
}

}  // namespace leakwatch
