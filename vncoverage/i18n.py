"""Planner-facing strings in Vietnamese (default) and English: one table for the map, the
report and the exports.

Every user-visible label goes through :func:`tr` (messages), :func:`verdict_label`
(per-village verdicts), :func:`ftth_reason_label` (why a village has no FTTH or a splitter
is not usable: the codes of :mod:`vncoverage.fibre`) or :func:`column_label` (table headers
of the CSV / Excel exports).

The notes of a run (what the loader and the stages did that the planner should know: a
repaired polygon, a decimal comma, a straight-line FTTH estimate ...) are :class:`Message`
objects, made where the note is made: a ``str`` whose text is the English sentence (so
that logs, ``in`` tests and ``"; ".join(notes)`` keep working) and that also carries the
key of its sentence in the note table, its parameters and the input file it is about;
``Message.render(lang)`` writes it in either language. The sentences live in the table
below (``_NOTES``), both languages side by side.

Values that come from input files (names, ids), file names, column names and EPSG codes are
never translated, only escaped where they are rendered.
"""

from __future__ import annotations

import functools
import os
import string
from collections.abc import Mapping, Sequence
from typing import Any, Final, TypeAlias

__all__ = [
    "DEFAULT_LANG",
    "LANGS",
    "Message",
    "Param",
    "check_lang",
    "column_label",
    "ftth_reason_label",
    "localise",
    "match_how",
    "number",
    "tr",
    "verdict_label",
]

#: Languages of the outputs.
LANGS: Final = ("vi", "en")
#: The default language (the planners' language).
DEFAULT_LANG: Final = "vi"

# key -> (vi, en). Placeholders use str.format names.
_STRINGS: dict[str, tuple[str, str]] = {
    # site planning report (vncoverage.plan.write)
    "plan_title": ("Kế hoạch hạ tầng để đạt mục tiêu 2025",
                   "Plan of works to reach the 2025 targets"),
    "plan_mobile_head": (
        "Để đạt {target} thôn có băng rộng di động: {new} trạm mới, {coloc} lắp đặt trên cột "
        "sẵn có, {upgrade} nâng cấp 4G trạm sẵn có, chi phí ước tính {cost} tỷ đồng",
        "To reach {target} of villages with mobile broadband: {new} new tower(s), {coloc} "
        "installation(s) on existing towers, {upgrade} 4G upgrade(s) of existing sites, "
        "estimated cost {cost} billion VND"),
    "plan_fibre_head": (
        "Để đạt {target} thôn có cáp quang FTTH: {km} km cáp mới dọc đường, {splitters} bộ "
        "chia mới, chi phí ước tính {cost} tỷ đồng",
        "To reach {target} of villages with FTTH: {km} km of new cable along the roads, "
        "{splitters} new splitter(s), estimated cost {cost} billion VND"),
    "plan_solver": (
        "Bộ giải: {status}; chi phí {cost} tỷ, cận dưới {bound} tỷ, khoảng cách {gap}; "
        "thuật toán tham lam: {greedy} tỷ; thời gian {time} s",
        "Solver: {status}; cost {cost} billion, bound {bound} billion, gap {gap}; greedy: "
        "{greedy} billion; time {time} s"),
    "plan_kpi": ("Chỉ tiêu trước → sau kế hoạch", "KPIs before → after the plan"),
    "plan_sites": ("Các công trình theo thứ tự ưu tiên", "Works in order of priority"),
    "plan_unreachable": (
        "Thôn không ứng viên nào phủ được (cần công nghệ khác: vệ tinh, viba)",
        "Villages no candidate can cover (another technology needed: satellite, microwave "
        "relay)"),
    "plan_costs": ("Bảng chi phí", "Cost table"),
    "plan_notes": ("Ghi chú", "Notes"),
    "plan_not_reached": (
        "Mục tiêu không đạt được với các ứng viên: tối đa {reach} thôn",
        "The target cannot be reached with the candidates: at most {reach} villages"),
    # --- general
    "yes": ("có", "yes"),
    "no": ("không", "no"),
    "villages": ("thôn", "villages"),
    "bts": ("BTS", "BTS"),
    "pts": ("điểm %", "pts"),
    "path": ("Đường dẫn", "path"),
    "generated": ("Lập ngày {date} bằng vncoverage {version}",
                  "Generated on {date} by vncoverage {version}"),
    # --- KPI status
    "status_met": ("đạt", "met"),
    "status_not_met": ("chưa đạt", "not met"),
    "status_statistic": ("số liệu thống kê, không tính từ bản đồ",
                         "reported statistic, not computed"),
    "status_no_data": ("không có dữ liệu", "no data"),
    "status_no_target": ("không có mục tiêu", "no target"),
    # --- map
    "map_subtitle": ("{n} thôn; {gaps} thôn chưa có sóng 4G/5G, trong đó {remote} ở vùng "
                     "sâu, xa", "{n} villages; {gaps} without 4G/5G coverage, {remote} of "
                     "them remote"),
    "layer_verdict": ("Thôn: kết luận sóng 4G/5G", "Villages: 4G/5G verdict"),
    "layer_popshare": ("Thôn: % dân số có sóng 4G/5G", "Villages: % population with 4G/5G"),
    "layer_ftth": ("Thôn: cáp quang FTTH", "Villages: FTTH fibre"),
    "layer_remote": ("Thôn chưa có sóng ở vùng sâu, xa (ưu tiên)",
                     "Remote villages without 4G/5G (priority)"),
    "layer_towers": ("Trạm BTS: {operator}", "Towers: {operator}"),
    "layer_olt": ("Cáp quang: OLT", "FTTH: OLTs"),
    "layer_splitters": ("Cáp quang: bộ chia (splitter)", "FTTH: splitters"),
    "layer_fibre_roads": ("Cáp quang: đoạn đường trong tầm bộ chia",
                          "FTTH: fibre-ready roads"),
    "layer_unreached": ("Cáp quang: thôn chưa được phục vụ", "FTTH: villages not reached"),
    "layer_rsrp": ("RSRP 4G tốt nhất (dBm)", "Best-server 4G RSRP (dBm)"),
    "layer_districts": ("Ranh giới huyện (trước 1/7/2025)",
                        "District boundaries (before 1 July 2025)"),
    "layer_communes": ("Ranh giới xã (từ 1/7/2025)", "Commune boundaries (from 1 July 2025)"),
    "search_placeholder": ("Tìm thôn…", "Search a village…"),
    "search_not_found": ("Không tìm thấy", "Not found"),
    "legend_verdict": ("Sóng 4G/5G (mọi nhà mạng)", "4G/5G coverage (any operator)"),
    "legend_popshare": ("% dân số có sóng 4G/5G", "% of population with 4G/5G"),
    "legend_ftth": ("Cáp quang FTTH", "FTTH fibre"),
    "legend_ftth_yes": ("thôn có cáp quang", "village FTTH-covered"),
    "legend_ftth_no": ("thôn chưa có cáp quang", "village not FTTH-covered"),
    "legend_splitters": ("Bộ chia quang (splitter)", "Splitters"),
    "legend_splitter_usable": ("dùng được (OLT trong tầm)", "usable (OLT within reach)"),
    "legend_splitter_unusable": ("không dùng được (xem lý do khi di chuột)",
                                 "not usable (hover for why)"),
    "legend_remote": ("viền đậm: chưa có sóng và cách thị trấn huyện > {town_km:g} km "
                      "hoặc cách đường > {road_km:g} km",
                      "thick outline: not covered and > {town_km:g} km from the district "
                      "town or > {road_km:g} km from a road"),
    "legend_towers": ("Trạm BTS (công nghệ cao nhất)", "Towers (highest technology)"),
    "legend_rsrp": ("RSRP 4G tốt nhất (trung vị)", "Best 4G RSRP (median)"),
    "legend_rsrp_note": ("có sóng khi ≥ {edge:.1f} dBm (ngưỡng {thr:g} dBm + dự phòng "
                         "{margin:.1f} dB)", "covered when ≥ {edge:.1f} dBm (threshold "
                         "{thr:g} dBm + {margin:.1f} dB margin)"),
    "legend_no_signal": ("ngoài vùng tính toán: trong suốt", "out of reach: transparent"),
    # --- popups and tooltips
    "pop_population": ("Dân số", "Population"),
    "pop_households": ("hộ", "households"),
    "pop_commune_2025": ("Xã mới (2025)", "Commune (2025)"),
    "pop_mbb": ("Sóng 4G/5G", "4G/5G"),
    "pop_covered_share": ("dân số có sóng", "of the population covered"),
    "pop_per_operator": ("Theo nhà mạng", "Per operator"),
    "pop_rsrp_centre": ("RSRP tại nhà văn hoá", "RSRP at the village centre"),
    "pop_nearest": ("Trạm 4G/5G gần nhất", "Nearest 4G/5G tower"),
    "pop_ftth": ("Cáp quang FTTH", "FTTH fibre"),
    "pop_ftth_passed": ("{passed}/{total} hộ trong tầm cáp", "{passed}/{total} households "
                        "passed"),
    "pop_fibre_distance": ("Bộ chia quang gần nhất", "Nearest splitter"),
    "pop_fibre_extra": ("cần kéo thêm {km:.1f} km cáp", "{km:.1f} km of extra cable needed"),
    "pop_ftth_why": ("Lý do chưa có cáp quang", "Why no FTTH"),
    "pop_ftth_method": ("Khoảng cách cáp quang đo {method}", "FTTH distances: {method}"),
    "pop_ftth_why_splitter": ("bộ chia {id}", "splitter {id}"),
    "pop_remote": ("Vùng sâu, xa", "Remote"),
    "pop_town": ("cách thị trấn huyện {km:.1f} km", "{km:.1f} km from the district town"),
    "pop_road": ("cách đường {km:.1f} km", "{km:.1f} km from a road"),
    "tip_tower": ("Trạm {site}: {operators} ({techs}), chủ sở hữu {owner}",
                  "Tower {site}: {operators} ({techs}), owner {owner}"),
    "tip_olt": ("OLT {id} ({operator})", "OLT {id} ({operator})"),
    "tip_splitter": ("Bộ chia {id}: đã dùng {used}/{ports} cổng",
                     "Splitter {id}: {used}/{ports} ports used"),
    "tip_splitter_full": (
        "Bộ chia {id} ({lat}, {lon}): OLT {olt}, tuyến tới OLT {route} km, cách đường "
        "{snap} m; đã dùng {used}/{ports} cổng; còn trống {free} cổng trước khi gán hộ, "
        "{left} cổng sau; {status}",
        "Splitter {id} ({lat}, {lon}): OLT {olt}, route to the OLT {route} km, {snap} m "
        "from the road; {used}/{ports} ports used; {free} free before the households, "
        "{left} after; {status}"),
    "splitter_usable": ("dùng được", "usable"),
    "splitter_unusable": ("không dùng được: {reason}", "not usable: {reason}"),
    "tip_unreached": ("{name} ({id}): cần {km:.1f} km cáp tới bộ chia còn cổng gần nhất",
                      "{name} ({id}): {km:.1f} km of cable to the nearest free splitter"),
    "tip_unreached_none": ("{name} ({id}): không có bộ chia nào trong tầm",
                           "{name} ({id}): no splitter in reach"),
    # --- report
    "report_title": ("Báo cáo phủ sóng theo thôn: {study}", "Village coverage report: {study}"),
    "report_intro": (
        "Băng rộng di động là 4G hoặc 5G. Một thôn <b>có sóng</b> khi tín hiệu tại nhà văn "
        "hoá (trung tâm thôn) và trên ít nhất {share:.0%} dân số đạt RSRP {thr:g} dBm tại "
        "{prob:.0%} vị trí (σ = {sigma:g} dB, dự phòng {margin:.1f} dB); <b>lõm sóng</b> khi "
        "nhà văn hoá có sóng nhưng một phần khu dân cư không có; <b>trắng sóng</b> khi nhà "
        "văn hoá không có tín hiệu dùng được.",
        "Mobile broadband means 4G or 5G. A village is <b>covered</b> when the signal at its "
        "centre (cultural house) and over at least {share:.0%} of its settled population "
        "reaches {thr:g} dBm RSRP at {prob:.0%} of locations (σ = {sigma:g} dB, margin "
        "{margin:.1f} dB); <b>lõm sóng</b> (weak) when the centre is covered but not enough "
        "of the settled area; <b>trắng sóng</b> (no signal) when the centre has no usable "
        "signal."),
    "sec_summary": ("Tóm tắt", "Summary"),
    "sec_kpis": ("Chỉ tiêu so với kế hoạch", "KPIs against the plan"),
    "sec_charts": ("Tiến độ và phủ sóng theo huyện", "Progress and coverage by district"),
    "sec_gap_map": ("Bản đồ thôn chưa có sóng", "Map of the gaps"),
    "sec_districts": ("Theo huyện (trước 1/7/2025)", "By district (before 1 July 2025)"),
    "sec_communes": ("Theo xã (từ 1/7/2025)", "By commune (from 1 July 2025)"),
    "sec_uncovered": ("Thôn chưa có sóng băng rộng di động",
                      "Villages without mobile broadband coverage"),
    "sec_remote": ("Thôn chưa có sóng ở vùng sâu, xa", "Remote villages without coverage"),
    "sec_method": ("Phương pháp", "Method"),
    "sec_notes": ("Ghi chú", "Notes"),
    "sec_provenance": ("Nguồn gốc dữ liệu", "Provenance"),
    "sec_changes": ("Thay đổi so với lần chạy trước", "Changes since the previous run"),
    "col_before": ("Trước", "before"),
    "col_after": ("Sau", "after"),
    "col_change_pts": ("Thay đổi (điểm %)", "change (pts)"),
    "col_cell": ("Cell", "cell"),
    "col_change": ("Thay đổi", "change"),
    "col_cells": ("Do cell", "cells that caused it"),
    "col_operator": ("Nhà mạng", "operator"),
    "col_technology": ("Công nghệ", "technology"),
    "col_village": ("Thôn", "village"),
    "col_population": ("Dân số", "population"),
    "change_added": ("thêm mới", "added"),
    "change_changed": ("thay đổi", "changed"),
    "change_removed": ("gỡ bỏ", "removed"),
    "changes_more": ("… và {n} thôn khác (xem changes.csv).",
                     "… and {n} more villages (see changes.csv)."),
    "summary_kpi": ("{name}: {current} (mục tiêu 2025: {target}); còn thiếu {gap} {unit}.",
                    "{name}: {current} (2025 target: {target}); {gap} more {unit} needed."),
    "summary_kpi_met": ("{name}: {current} (mục tiêu 2025: {target}): đã đạt.",
                        "{name}: {current} (2025 target: {target}): met."),
    "summary_remote": ("{remote} trong {gaps} thôn chưa có sóng 4G/5G ở vùng sâu, xa "
                       "(ưu tiên của kế hoạch).",
                       "{remote} of the {gaps} villages without 4G/5G are remote (the plan's "
                       "priority)."),
    "col_kpi": ("Chỉ tiêu", "KPI"),
    "col_unit": ("Đơn vị", "unit"),
    "col_baseline": ("Cơ sở Q2/2023", "baseline Q2/2023"),
    "col_current": ("Hiện tại", "current"),
    "col_target": ("Mục tiêu 2025", "target 2025"),
    "col_gap_pct": ("Thiếu (điểm %)", "gap (% points)"),
    "col_gap_units": ("Thiếu (số lượng)", "gap (units)"),
    "col_status": ("Trạng thái", "status"),
    "col_input": ("Dữ liệu vào", "input"),
    "col_parameter": ("Tham số", "parameter"),
    "col_value": ("Giá trị", "value"),
    "chart_progress_title": ("Tiến độ tới mục tiêu 2025", "Progress to the 2025 target"),
    "chart_baseline": ("Cơ sở 2023", "Baseline 2023"),
    "chart_current": ("Hiện tại", "Current"),
    "chart_target": ("Mục tiêu 2025", "Target 2025"),
    "chart_district_title": ("Thôn có sóng 4G/5G theo huyện", "Villages with 4G/5G by district"),
    "chart_share_villages": ("% số thôn", "% of villages"),
    "chart_gap_title": ("Thôn chưa có sóng 4G/5G", "Villages without 4G/5G"),
    "chart_towers": ("Trạm 4G/5G", "4G/5G towers"),
    "chart_towns": ("Thị trấn huyện", "District towns"),
    "uncovered_more": ("… và {n} thôn khác trong villages.gpkg / villages.csv.",
                       "… and {n} more in villages.gpkg / villages.csv."),
    "remote_rule": (
        "Một thôn chưa có sóng (kết luận khác \"có sóng\") thuộc vùng sâu, xa khi nhà văn hoá "
        "cách thị trấn huyện gần nhất hơn {town_km:g} km (đường chim bay) hoặc cách đường "
        "gần nhất hơn {road_km:g} km. Đây là các thôn ưu tiên của kế hoạch: thị trường khó "
        "tự phủ, cần hỗ trợ (ví dụ Quỹ dịch vụ viễn thông công ích).",
        "A village without coverage (verdict other than \"covered\") is remote when its "
        "centre is more than {town_km:g} km (straight line) from the nearest district town "
        "or more than {road_km:g} km from the nearest road. These are the plan's priority: "
        "the market is unlikely to cover them unaided (e.g. public-utility telecom fund)."),
    "remote_not_evaluated": ("Không đánh giá được (thiếu vị trí thị trấn và mạng đường).",
                             "Not evaluated (no district towns and no road network)."),
    "method_model": ("Mô hình truyền sóng: {model} trên DEM; bán kính tính {radii}; máy thu "
                     "cao {rx:g} m so với mặt đất; k = {k:.3f}.",
                     "Propagation model: {model} on the DEM, radius per technology {radii}; "
                     "receiver {rx:g} m above ground; k = {k:.3f}."),
    "method_antenna": ("Anten: mẫu búp sóng sector 3GPP TR 36.814, độ rộng ngang {h:g}°, "
                       "dọc {v:g}°, tỷ số trước/sau {fb:g} dB.",
                       "Antennas: 3GPP TR 36.814 sector pattern, {h:g}° horizontal, {v:g}° "
                       "vertical beamwidth, front-to-back {fb:g} dB."),
    "method_rsrp": ("RSRP tính trên một phần tử tài nguyên: EIRP − 10·log10(12·N_RB) + "
                    "độ lợi anten − suy hao đường truyền.",
                    "RSRP is per resource element: EIRP − 10·log10(12·N_RB) + antenna gain "
                    "− path loss."),
    "method_ftth": ("FTTH: tầm cáp thuê bao {drop:g} m, tầm GPON {gpon:g} km, quy tắc "
                    "{rule} (tỷ lệ hộ {share:.0%}).",
                    "FTTH: drop reach {drop:g} m, GPON reach {gpon:g} km, rule {rule} "
                    "(household share {share:.0%})."),
    "method_cells": ("Số cell đã tính: {cells}.", "Cells computed: {cells}."),
    # villages given as points (geom_method = voronoi): report, map popup and legend
    "method_geom": ("Diện tích thôn: {voronoi} trên {n} thôn là ô Voronoi quanh điểm của "
                    "thôn, cắt theo ranh giới xã (geom_method = voronoi, ước lượng); các thôn "
                    "còn lại là đa giác cho sẵn.",
                    "Village areas: {voronoi} of {n} villages are Voronoi cells of their "
                    "points clipped to their commune (geom_method = voronoi, an estimate); "
                    "the others are given polygons."),
    "pop_geom_voronoi": ("Diện tích thôn: ô Voronoi quanh điểm thôn, cắt theo xã (ước lượng)",
                         "Village area: Voronoi cell of its point, clipped to its commune "
                         "(an estimate)"),
    "legend_geom_voronoi": ("{n} thôn không có ranh giới: diện tích là ô Voronoi quanh điểm "
                            "thôn, cắt theo xã",
                            "{n} villages without boundaries: areas are Voronoi cells of "
                            "their points clipped to their commune"),
    "prov_config": ("Tệp cấu hình: {path}.", "Configuration: {path}."),
    "prov_defaults": ("Cấu hình: mặc định.", "Configuration: defaults."),
    "prov_timings": ("Thời gian các bước (giây): {timings}.", "Stage timings (s): {timings}."),
    "prov_version": ("Phiên bản", "Version"),
    "prov_generated": ("Ngày lập", "Generated"),
    # --- vncoverage validate
    "val_summary": ("{villages} thôn; {cells} cell trên {towers} trạm; DEM {width}x{height} "
                    "điểm ảnh, mỗi điểm {pixel:g} m",
                    "villages: {villages}; cells: {cells} on {towers} towers; DEM "
                    "{width}x{height} at {pixel:g} m"),
    "val_boundaries": ("ranh giới thôn (và huyện, xã)", "village boundaries (and districts, "
                       "communes)"),
    "val_settlements": ("cụm hộ dân", "household clusters"),
    "val_cells": ("danh sách cell", "cell list"),
    "val_ftth_nodes": ("nút cáp quang FTTH (OLT, bộ chia)", "FTTH nodes (OLTs, splitters)"),
    "val_roads": ("mạng lưới đường", "road network"),
    "val_dem": ("mô hình số độ cao (DEM)", "elevation model (DEM)"),
    "val_targets": ("chỉ tiêu kế hoạch", "plan targets"),
    "val_admin_names": ("bảng ghép tên huyện, xã", "district and commune name pairs"),
    "val_village_points": ("điểm thôn (hoặc bảng tên thôn)", "village points (or a table of "
                           "village names)"),
    "val_place_points": ("điểm địa danh để ghép theo tên thôn", "place points, paired with the "
                         "villages by name"),
    "val_sites": ("danh sách trạm (mỗi dòng một trạm)", "site list (one row per site)"),
    "val_site_defaults": ("bảng tham số mặc định của trạm", "site default parameters"),
    "val_landcover": ("lớp phủ mặt đất (suy hao địa vật tại máy thu)",
                      "land cover (clutter loss at the receiver)"),
    "val_landcover_classes": ("bảng lớp phủ (độ cao, loại địa vật)",
                              "land-cover class table (heights, clutter categories)"),
    "val_corrections": ("hiệu chỉnh theo đo kiểm ([calibration])",
                        "calibration corrections ([calibration])"),
    "val_not_given_calibration": ("không khai báo trong [calibration]",
                                  "not given in [calibration]"),
    "val_file": ("tệp: {path}", "file: {path}"),
    "val_not_given": ("không khai báo trong [inputs]", "not given in [inputs]"),
    "val_read_as": ("đọc dạng: {how}", "read as: {how}"),
    "val_dropped": ("đã loại {n} dòng (liệt kê trong dropped_rows.csv khi chạy): {rows}",
                    "dropped {n} row(s) (listed in dropped_rows.csv by a run): {rows}"),
    "val_dropped_row": ("{id} (dòng {row})", "{id} (row {row})"),
    "val_nothing": ("không có gì cần lưu ý", "nothing to note"),
    "val_general": ("Ghi chú chung (không thuộc riêng tệp nào)",
                    "Notes about no file in particular"),
    "val_ok": ("inputs OK: mọi dữ liệu vào đều đọc được", "inputs OK"),
    # uncertainty of the verdicts and KPIs (vncoverage.uncertainty)
    "unc_value": ("{current} (90 %: {lo}–{hi}), P(≥ {target}) = {p}",
                  "{current} (90 %: {lo}–{hi}), P(≥ {target}) = {p}"),
    "unc_value_no_target": ("{current} (90 %: {lo}–{hi})", "{current} (90 %: {lo}–{hi})"),
    "unc_uncalibrated": ("chưa hiệu chỉnh", "uncalibrated"),
    "unc_calibrated": ("đã hiệu chỉnh theo đo kiểm", "calibrated"),
    "unc_note": ("Khoảng 90 % và P(≥ mục tiêu): mô phỏng Monte Carlo các sai số của mức thu "
                 "dự báo, dùng chung giữa các thôn ({basis}). Độ nhạy: sai lệch toàn tỉnh "
                 "−2 dB → {minus}, +2 dB → {plus}; DEM 30 m thay vì 90 m: ±{res} điểm "
                 "(đo trên cùng địa hình, không nằm trong mô hình sai số).",
                 "90 % interval and P(≥ target): a Monte Carlo of the errors of the predicted "
                 "levels, shared between villages ({basis}). Sensitivity: province-wide bias "
                 "−2 dB → {minus}, +2 dB → {plus}; DEM at 30 m instead of 90 m: ±{res} "
                 "points (measured on the same terrain, not in the error model)."),
    "unc_note_clutter": (" Không có lớp phủ mặt đất (clutter): {value}.",
                         " Without clutter (land cover): {value}."),
    "sec_uncertainty": ("Độ bất định và độ nhạy của chỉ tiêu",
                        "Uncertainty and sensitivity of the KPIs"),
    "col_case": ("Trường hợp", "case"),
    "sens_median": ("Bản đồ trung vị (giá trị hiện tại)", "median map (the current value)"),
    "sens_interval": ("Khoảng 90 % (Monte Carlo, {basis})", "90 % interval (Monte Carlo, {basis})"),
    "sens_bias": ("Sai lệch toàn tỉnh {bias} dB", "province-wide bias {bias} dB"),
    "sens_resolution": ("DEM 30 m thay vì 90 m (đo trên cùng địa hình; số liệu ghi nhận, "
                        "không tính lại)",
                        "DEM at 30 m instead of 90 m (measured on the same terrain; a "
                        "documented figure, not recomputed)"),
    "sens_resolution_value": ("±{pts} điểm", "±{pts} points"),
    "sens_clutter": ("Không có lớp phủ mặt đất (clutter)", "without clutter (land cover)"),
    "sens_no_clutter": ("lượt chạy này không dùng lớp phủ mặt đất",
                        "this run applied no land cover"),
    "pop_p_covered": ("xác suất có sóng", "probability covered"),
}

#: Why a village has no FTTH (``ftth_reason``) or a splitter is not usable
#: (``unusable_reason``): the codes of :mod:`vncoverage.fibre` (``REASONS``).
_FTTH_REASONS: dict[str, tuple[str, str]] = {
    "off the road network": ("ngoài mạng lưới đường (quá xa mọi tuyến đường)",
                             "off the road network (too far from any road)"),
    "unknown OLT": ("không rõ OLT (mã OLT không có trong bảng nút)",
                    "unknown OLT (its olt_id is not in the node table)"),
    "OLT off the road network": ("OLT ngoài mạng lưới đường", "OLT off the road network"),
    "no road to the OLT": ("không có đường tới OLT", "no road to the OLT"),
    "OLT out of reach": ("OLT ngoài tầm (tuyến tới OLT dài hơn tầm GPON)",
                         "OLT out of reach (route longer than the GPON reach)"),
    "no splitter within reach": ("không có bộ chia nào trong tầm cáp thuê bao",
                                 "no splitter within reach"),
    "splitter full": ("bộ chia đã hết cổng", "splitter full (no free port left)"),
    "too few households passed": ("quá ít hộ trong tầm cáp", "too few households passed"),
}
#: ``OLT out of reach`` with the GPON reach.
_OLT_OUT_OF_REACH_KM = ("OLT ngoài tầm (tuyến tới OLT dài hơn {km:g} km)",
                        "OLT out of reach (route > {km:g} km)")

_VERDICTS: dict[str, tuple[str, str]] = {
    "covered": ("Có sóng", "covered"),
    "lõm sóng": ("Lõm sóng", "lõm sóng (weak)"),
    "trắng sóng": ("Trắng sóng", "trắng sóng (no signal)"),
    "unknown": ("Không xác định", "unknown"),
}

# Headers of the CSV / Excel exports (and the report's group tables).
_COLUMNS: dict[str, tuple[str, str]] = {
    "village_id": ("Mã thôn", "Village id"),
    "name": ("Tên", "Name"),
    "commune": ("Xã (trước 1/7/2025)", "Commune (before 1 July 2025)"),
    "district": ("Huyện", "District"),
    "commune_2025": ("Xã (từ 1/7/2025)", "Commune (from 1 July 2025)"),
    "kind": ("Loại", "Kind"),
    "population": ("Dân số", "Population"),
    "households": ("Số hộ", "Households"),
    "verdict_mbb_any": ("Kết luận sóng 4G/5G", "4G/5G verdict"),
    "pop_share_mbb_any": ("Tỷ lệ dân số có sóng 4G/5G", "Population share with 4G/5G"),
    "p_covered_mbb_any": ("Xác suất có sóng 4G/5G (Monte Carlo)",
                          "Probability of 4G/5G coverage (Monte Carlo)"),
    "area_share_mbb_any": ("Tỷ lệ diện tích có sóng 4G/5G", "Area share with 4G/5G"),
    "centre_mbb_any": ("Nhà văn hoá có sóng 4G/5G", "Centre has 4G/5G"),
    "best_dbm_centre_4g": ("RSRP 4G tại nhà văn hoá (dBm)", "4G RSRP at the centre (dBm)"),
    "best_server_centre_4g": ("Cell 4G phục vụ nhà văn hoá", "4G cell serving the centre"),
    "nearest_site_id": ("Trạm 4G/5G gần nhất", "Nearest 4G/5G tower"),
    "nearest_site_m": ("Khoảng cách tới trạm gần nhất (m)", "Distance to nearest tower (m)"),
    "nearest_site_operators": ("Nhà mạng tại trạm gần nhất", "Operators on nearest tower"),
    "ftth_covered": ("Có cáp quang FTTH", "FTTH-covered"),
    "ftth_households_passed": ("Số hộ trong tầm cáp quang", "Households passed"),
    "ftth_households": ("Số hộ (FTTH)", "Households (FTTH)"),
    "ftth_nearest_splitter_m": ("Khoảng cách tới bộ chia gần nhất (m)",
                                "Distance to nearest splitter (m)"),
    "ftth_extra_cable_m": ("Cáp cần kéo thêm (m)", "Extra cable needed (m)"),
    "ftth_centre_passed": ("Nhà văn hoá trong tầm cáp quang", "Centre passed by FTTH"),
    "ftth_reason": ("Lý do chưa có cáp quang", "Why no FTTH"),
    "ftth_reason_splitter": ("Bộ chia liên quan", "Splitter concerned"),
    "town_distance_m": ("Khoảng cách tới thị trấn huyện (m)", "Distance to district town (m)"),
    "road_distance_m": ("Khoảng cách tới đường (m)", "Distance to a road (m)"),
    "remote_gap": ("Chưa có sóng, vùng sâu xa", "Remote gap"),
    "villages": ("Số thôn", "Villages"),
    "mbb_covered": ("Có sóng", "Covered"),
    "mbb_lom_song": ("Lõm sóng", "Lõm sóng"),
    "mbb_trang_song": ("Trắng sóng", "Trắng sóng"),
    "mbb_unknown": ("Không xác định", "Unknown"),
    "mbb_covered_pct": ("% thôn có sóng", "% villages covered"),
    "mbb_population_covered_pct": ("% dân số có sóng", "% population covered"),
    "ftth_covered_pct": ("% thôn có cáp quang", "% villages with FTTH"),
    "ftth_households_passed_pct": ("% hộ trong tầm cáp quang", "% households passed"),
    "remote_gaps": ("Thôn chưa có sóng, vùng sâu xa", "Remote gaps"),
    # KPI table
    "kpi_id": ("Mã chỉ tiêu", "KPI id"),
    "name_vi": ("Chỉ tiêu", "KPI (Vietnamese)"),
    "name_en": ("Chỉ tiêu (tiếng Anh)", "KPI"),
    "unit": ("Đơn vị", "Unit"),
    "baseline_2023": ("Cơ sở Q2/2023", "Baseline Q2/2023"),
    "current": ("Hiện tại", "Current"),
    "target_2025": ("Mục tiêu 2025", "Target 2025"),
    "gap_pct_points": ("Thiếu (điểm %)", "Gap (% points)"),
    "achieved": ("Đạt được", "Achieved"),
    "total": ("Tổng số", "Total"),
    "gap_units": ("Thiếu (số lượng)", "Gap (units)"),
    "unit_name": ("Đơn vị đếm", "Counted in"),
    "status": ("Trạng thái", "Status"),
    "detail": ("Chi tiết", "Detail"),
    # towers and nodes
    "site_id": ("Mã trạm", "Tower id"),
    "operators": ("Nhà mạng", "Operators"),
    "technologies": ("Công nghệ", "Technologies"),
    "tower_owner": ("Chủ sở hữu cột", "Tower owner"),
    "n_operators": ("Số nhà mạng", "Operators on the tower"),
    "n_cells": ("Số cell", "Cells"),
    "lon": ("Kinh độ", "Longitude"),
    "lat": ("Vĩ độ", "Latitude"),
    "node_id": ("Mã nút", "Node id"),
    "node_type": ("Loại nút", "Node type"),
    "operator": ("Nhà mạng", "Operator"),
    "ports": ("Số cổng", "Ports"),
    "ports_used": ("Cổng đã dùng", "Ports used"),
    # splitter table (ftth_splitters.csv)
    "olt_id": ("Mã OLT", "OLT id"),
    "olt_route_m": ("Tuyến tới OLT (m)", "Route to the OLT (m)"),
    "free": ("Cổng trống trước khi gán hộ", "Free ports before the households"),
    "households_passed": ("Số hộ được gán", "Households assigned"),
    "free_left": ("Cổng trống sau khi gán hộ", "Free ports after the households"),
    "usable": ("Dùng được", "Usable"),
    "unusable_reason": ("Lý do không dùng được", "Why not usable"),
    "snap_m": ("Khoảng cách bám đường (m)", "Snap distance to the road (m)"),
    "offnetwork": ("Ngoài mạng lưới đường", "Off the road network"),
}

_OPERATOR_SUFFIXES = {
    "pop_share_mbb_": ("Tỷ lệ dân số có sóng 4G/5G: {op}", "Population share with 4G/5G: {op}"),
    "verdict_mbb_": ("Kết luận sóng 4G/5G: {op}", "4G/5G verdict: {op}"),
    "p_covered_mbb_": ("Xác suất có sóng 4G/5G: {op}", "Probability of 4G/5G coverage: {op}"),
}

_OPERATOR_NAMES = {"viettel": "Viettel", "vnpt": "VNPT", "mobifone": "MobiFone"}


def check_lang(lang: str) -> str:
    """Return ``lang`` if it is one of :data:`LANGS`, else raise ``ValueError``."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}: use one of {', '.join(LANGS)}")
    return lang


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[LANGS.index(check_lang(lang))]


@functools.lru_cache(maxsize=512)
def _parsed(text: str) -> tuple[tuple[str, str | None, str], ...]:
    """``(literal, field name, format spec)`` parts of a message (no conversions, no
    nested fields: the string table uses neither)."""
    return tuple((lit, name, spec or "") for lit, name, spec, _conv
                 in string.Formatter().parse(text))


def _format(text: str, lang: str, kwargs: dict[str, Any]) -> str:
    """``text.format(**kwargs)``, writing numbers the way ``lang`` does (decimal comma and
    thousands dot in Vietnamese, a true minus sign)."""
    out = []
    for lit, name, spec in _parsed(text):
        out.append(lit)
        if name is None:
            continue
        value = kwargs[name]
        field = format(value, spec)
        if isinstance(value, int | float) and not isinstance(value, bool):
            if lang == "vi":
                field = field.translate(_VI_DIGITS)
            field = field.replace("-", "−")
        out.append(field)
    return "".join(out)


_VI_DIGITS = str.maketrans(",.", ".,")


def tr(key: str, lang: str, /, **kwargs: object) -> str:
    """The message ``key`` in ``lang``, formatted with ``kwargs`` (numbers as ``lang``
    writes them).

    Raises
    ------
    KeyError
        If ``key`` is not in the string table.
    """
    text = _pick(_STRINGS[key], lang)
    return _format(text, lang, kwargs) if kwargs else text


def number(value: object, lang: str, digits: int = 0) -> str:
    """A number as the language writes it: ``1.234,5`` in Vietnamese, ``1,234.5`` in
    English; ``–`` for a missing value."""
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "–"
    if x != x or x in (float("inf"), float("-inf")):
        return "–"
    text = f"{x:,.{digits}f}"
    if check_lang(lang) == "vi":
        text = text.translate(str.maketrans(",.", ".,"))
    return text.replace("-", "−")


def verdict_label(verdict: str, lang: str) -> str:
    """Display label of a per-village verdict (``covered``, ``lõm sóng``...)."""
    pair = _VERDICTS.get(str(verdict))
    return _pick(pair, lang) if pair else str(verdict)


def ftth_reason_label(code: str, lang: str, *, gpon_reach_m: float | None = None) -> str:
    """Display label of why a village has no FTTH or a splitter is not usable (a code of
    :mod:`vncoverage.fibre`, e.g. ``splitter full``); ``""`` for ``""`` (covered, usable).
    ``gpon_reach_m`` (metres) puts the reach in the ``OLT out of reach`` label. An unknown
    code is shown as it is."""
    code = code if isinstance(code, str) else ""  # a missing value: nothing to say
    if code == "OLT out of reach" and gpon_reach_m is not None:
        return _format(_pick(_OLT_OUT_OF_REACH_KM, lang), lang, {"km": gpon_reach_m / 1000})
    pair = _FTTH_REASONS.get(code)
    return _pick(pair, lang) if pair else code


def column_label(column: str, lang: str) -> str:
    """Header of a table column in ``lang``; unknown columns keep their name."""
    if column in _COLUMNS:
        return _pick(_COLUMNS[column], lang)
    for prefix, pair in _OPERATOR_SUFFIXES.items():
        if column.startswith(prefix):
            op = column.removeprefix(prefix)
            return _pick(pair, lang).format(op=_OPERATOR_NAMES.get(op, op))
    return column


# --------------------------------------------------------------------------------------
# notes: messages made where they are made, rendered in either language

#: A parameter of a :class:`Message`: text (kept as written: names, ids, file and column
#: names), a number (written the way the language writes it), a nested message, a list of
#: them, or None (rendered as nothing).
Param: TypeAlias = "str | int | float | Message | list[Param] | None"


class Message(str):
    """A note for the planner, renderable in every language of :data:`LANGS`.

    The ``str`` value is the English rendering, so a message goes wherever a note went
    (logs, ``"..." in note``, ``"; ".join(notes)``). The sentence is the note table's entry
    ``key``; ``params`` fill its placeholders; ``source`` is the input file the note is
    about (as the configuration names it), None for a note about no file in particular.

    Placeholders follow :meth:`str.format`. A number is formatted with its format spec and
    then written the way the language writes it (``{n:,}`` gives ``1,234`` in English and
    ``1.234`` in Vietnamese, as :func:`number` does; ``{x:.1f}`` gives ``2.5`` / ``2,5``).
    A list is joined with its format spec as the separator (``{ids}``: ``", "``;
    ``{pairs:; }``: ``"; "``; ``{names: or }``). Text is never rewritten. Each language's
    sentence has the same placeholders, its own format specs (a count kept ungrouped in
    English where a table already holds that text, e.g. a KPI's ``detail`` in kpi.csv).

    Parameters
    ----------
    key
        The sentence's key in the note table.
    source
        The input file the note is about, or None.
    **params
        The values of the placeholders (numpy numbers, paths and tuples are stored as
        Python numbers, text and lists).

    Raises
    ------
    KeyError
        If ``key`` is not in the note table, or a placeholder has no value.
    """

    key: str
    params: dict[str, Param]
    source: str | None

    def __new__(cls, key: str, /, *, source: str | os.PathLike[str] | None = None,
                **params: object) -> Message:
        clean = {name: _param(value) for name, value in params.items()}
        self = super().__new__(cls, _render(key, "en", clean))
        self.key = key
        self.params = clean
        self.source = None if source is None else os.fspath(source)
        return self

    def render(self, lang: str) -> str:
        """The message in ``lang`` (``"vi"`` or ``"en"``)."""
        return _render(self.key, check_lang(lang), self.params)

    def to_json(self) -> dict[str, Any]:
        """``{"key", "params", "source"}``, JSON-serialisable (nested messages as such
        dictionaries); :meth:`from_json` reads it back."""
        return {"key": self.key, "params": {k: _param_json(v) for k, v in self.params.items()},
                "source": self.source}

    @classmethod
    def from_json(cls, data: object) -> Message:
        """The message :meth:`to_json` wrote.

        Raises
        ------
        ValueError
            If ``data`` is not such a dictionary (e.g. a plain English note kept by an
            older version) or names a key the note table does not have.
        """
        if not isinstance(data, Mapping) or not isinstance(data.get("key"), str) \
                or not isinstance(data.get("params"), Mapping):
            raise ValueError(f"not a serialised message: {data!r:.80}")
        source = data.get("source")
        if source is not None and not isinstance(source, str):
            raise ValueError(f"not a serialised message: {data!r:.80}")
        try:
            return cls(data["key"], source=source,
                       **{str(k): _param_from_json(v) for k, v in data["params"].items()})
        except KeyError as exc:
            raise ValueError(f"unknown message or parameter {exc}") from None

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return (_message_from_json, (self.to_json(),))


def _message_from_json(data: object) -> Message:
    """Unpickle a :class:`Message` (module level, for :mod:`pickle`)."""
    return Message.from_json(data)


def localise(text: str, lang: str) -> str:
    """A note (or any text) in ``lang``: a :class:`Message` rendered, other text as it is."""
    return text.render(lang) if isinstance(text, Message) else text


def _param(value: object) -> Param:
    """``value`` as a stored parameter: numpy scalars as Python numbers, paths as text,
    tuples and arrays as lists."""
    if value is None or isinstance(value, Message):
        return value
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return value if type(value) in (int, float) else (int(value) if isinstance(value, int)
                                                          else float(value))
    if isinstance(value, str):
        return str(value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "ndim", None) == 0:  # a numpy scalar
        return _param(item())
    if isinstance(value, Sequence) or hasattr(value, "__array__"):
        return [_param(v) for v in value]  # type: ignore[attr-defined]
    raise TypeError(f"a message parameter must be text, a number, a message or a list, "
                    f"not {type(value).__name__}")


def _param_json(value: Param) -> Any:
    if isinstance(value, Message):
        return value.to_json()
    if isinstance(value, list):
        return [_param_json(v) for v in value]
    return value


def _param_from_json(value: object) -> Param:
    if isinstance(value, Mapping):
        return Message.from_json(value)
    if isinstance(value, list):
        return [_param_from_json(v) for v in value]
    if value is None or isinstance(value, str | int | float):
        return value
    raise ValueError(f"not a message parameter: {value!r:.80}")


def _render_value(value: Param, spec: str, lang: str) -> str:
    """One placeholder's value in ``lang`` (see :class:`Message`)."""
    if value is None:
        return ""
    if isinstance(value, Message):
        return value.render(lang)
    if isinstance(value, list):
        return (spec or ", ").join(_render_value(v, "", lang) for v in value)
    field = format(value, spec)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if lang == "vi":
            field = field.translate(_VI_DIGITS)
        field = field.replace("-", "−")
    return field


def _render(key: str, lang: str, params: Mapping[str, Param]) -> str:
    text = _pick(_NOTES[key], lang)
    out = []
    for lit, name, spec in _parsed(text):
        out.append(lit)
        if name is not None:
            out.append(_render_value(params[name], spec, lang))
    return "".join(out)


# The note table: key -> (vi, en). The English is the note's ``str`` value, so it stays as
# the tests and logs know it; placeholders as described in :class:`Message`.
_NOTES: dict[str, tuple[str, str]] = {
    # site planning (vncoverage.plan.run)
    "plan.before_mismatch": (
        "{n} thôn có kết luận từ các điểm của thôn khác với kết luận của lần chạy: kế hoạch "
        "dùng quy tắc điểm, hãy kiểm tra các thôn này",
        "{n} village(s) whose verdict from their points differs from the run's: the plan "
        "uses the point rule, check these villages"),
    "plan.target_capped": (
        "Mục tiêu cần {required} thôn nhưng mọi ứng viên cộng lại chỉ phủ được tối đa {reach}: "
        "kế hoạch đạt mức tối đa này với chi phí thấp nhất; các thôn còn lại cần công nghệ khác",
        "The target needs {required} villages but every candidate together reaches at most "
        "{reach}: the plan reaches that maximum at the least cost; the others need another "
        "technology"),
    "plan.calibrated": (
        "Các trạm đề xuất được tính với hiệu chỉnh của lần chạy (độ lệch toàn cục "
        "{offset:+.2f} dB, {n} điểm đo); sau add-sites, lần chạy hiệu chỉnh lại cùng các trạm "
        "mới nên độ lệch có thể thay đổi chút ít",
        "The planned sites are computed with the run's calibration (global offset "
        "{offset:+.2f} dB, {n} measurements); after add-sites the run fits again with the new "
        "sites, which can move the offsets a little"),
    "plan.commune_capped": (
        "{n} xã có ít thôn mà ứng viên phủ được hơn mức tối thiểu {share:.0%}: yêu cầu của các "
        "xã này chỉ tính các thôn phủ được",
        "{n} commune(s) have fewer villages any candidate can reach than the minimum share "
        "{share:.0%}: their requirement counts only the reachable villages"),
    "plan.rule_mismatch": (
        "{n} thôn: kết luận sau kế hoạch theo quy tắc của lần chạy khác với dự đoán của bộ "
        "giải (điểm ảnh không xác định); bảng dùng kết luận của lần chạy",
        "{n} village(s): the verdict after the plan by the run's rule differs from the "
        "solver's prediction (unknown pixels); the tables use the run's rule"),
    # --- lists and labels shared by several notes
    "list.more": (" ... (còn {n:,})", " ... ({n:,} more)"),
    "file.layer": ("{path} (lớp '{layer}')", "{path} (layer '{layer}')"),
    "level.district": ("huyện", "district"),
    "level.commune_2025": ("xã (từ 1/7/2025)", "commune_2025"),
    "levels.district": ("huyện", "districts"),
    "levels.commune_2025": ("xã (từ 1/7/2025)", "commune_2025s"),
    "scheme.2025": (", tên từ 1/7/2025", ", 2025 name"),
    "scheme.pre_2025": (", tên trước 1/7/2025", ", pre-2025 name"),
    # how a name was matched (vncoverage.names: PAIR_STAGES, match_names, unify_names)
    "how.exact": ("trùng khớp", "exact"),
    "how.cleaned": ("chuẩn hoá ký tự", "cleaned"),
    "how.normalised": ("khác chữ hoa hoặc vị trí dấu thanh", "normalised"),
    "how.prefix": ("khác tiền tố hành chính", "prefix"),
    "how.missing_marks": ("thiếu dấu", "missing marks"),
    "how.prefix_missing_marks": ("khác tiền tố hành chính, thiếu dấu",
                                 "prefix, missing marks"),
    "how.wrong_mark": ("sai một dấu", "wrong mark"),
    "how.prefix_wrong_mark": ("khác tiền tố hành chính, sai một dấu", "prefix, wrong mark"),
    "how.letters": ("chỉ khớp chữ cái, bỏ qua mọi dấu", "letters"),
    "how.alias": ("tên khác đã khai báo", "alias"),
    "how.admin_names": ("theo bảng admin_names", "admin_names"),
    # --- how a table was read (fileio._tables.ParsedTable)
    "table.parts": ("{parts}", "{parts}"),
    "encoding.utf-8": ("UTF-8", "UTF-8"),
    "encoding.utf-8-sig": ("UTF-8 có BOM", "UTF-8 with BOM"),
    "encoding.utf-16": ("UTF-16 (có BOM)", "UTF-16 (BOM)"),
    "encoding.utf-16-le": ("UTF-16 LE không BOM", "UTF-16 LE without BOM"),
    "encoding.utf-16-be": ("UTF-16 BE không BOM", "UTF-16 BE without BOM"),
    "encoding.utf-32": ("UTF-32 (có BOM)", "UTF-32 (BOM)"),
    "encoding.cp1258": ("Windows-1258 (tiếng Việt)", "Windows-1258 (Vietnamese)"),
    "encoding.cp1252": ("Windows-1252 (Tây Âu)", "Windows-1252 (Western European)"),
    "table.separated": ("phân cách bằng '{sep}'", "'{sep}'-separated"),
    "table.tab_separated": ("phân cách bằng tab", "tab-separated"),
    "table.sheet": ("trang tính '{sheet}'", "sheet '{sheet}'"),
    "table.header_rows": ("tiêu đề trên dòng {first}-{last}", "header on rows {first}-{last}"),
    "table.header_row": ("tiêu đề ở dòng {row}", "header on row {row}"),
    "table.read_as": ("{file}: đọc dạng {parts:; }", "{file}: read as {parts:; }"),
    "table.two_row_header": ("tiêu đề trên hai dòng, tên cột lấy từ dòng dưới: {groups}",
                             "header over two rows, columns named from the lower row: "
                             "{groups}"),
    "table.group_over": ("'{group}' phía trên {columns}", "'{group}' over {columns}"),
    "table.total_rows": ("đã bỏ dòng tổng cộng (không phải dữ liệu): {rows}",
                         "dropped total row(s), not data: {rows}"),
    "table.total_row": ("dòng {row} ('{label}')", "row {row} ('{label}')"),
    "table.columns_mapped": ("tên cột được nhận ra: {pairs}", "columns mapped: {pairs}"),
    "table.columns_ignored": ("cột bỏ qua: {columns}", "columns ignored: {columns}"),
    "table.column_ignored": ("'{column}' ({reason})", "'{column}' ({reason})"),
    "table.gives": ("đã lấy {canonical} từ cột {column}", "{column} gives {canonical}"),
    "table.decimal_commas": ("dấu phẩy thập phân trong {columns}",
                             "decimal commas in {columns}"),
    "table.digit_grouping": ("dấu phân cách hàng nghìn trong {columns}",
                             "digit grouping in {columns}"),
    "table.dms": ("độ-phút-giây trong {columns}", "degrees-minutes-seconds in {columns}"),
    # --- rows, names, dates and coordinates of the tables (fileio._columns, inventories,
    # targets, _coordinates)
    "rows.repeated": ("{file}: đã bỏ {n:,} dòng lặp lại y hệt một dòng phía trên (dòng "
                      "{rows}{more})",
                      "{file}: dropped {n:,} row(s) repeating an earlier row exactly (rows "
                      "{rows}{more})"),
    "owner.not_operator": (
        "{file}: {column} '{value}' không phải là nhà mạng: các trạm của nó được tính là "
        "của một công ty hạ tầng (trung lập); nếu đó là {operator}, hãy sửa lại",
        "{file}: {column} '{value}' is not an operator: its towers count as a tower "
        "company's (neutral); if it is {operator}, correct it"),
    "names.read_as": ("{file}: tên được đọc là: {pairs}", "{file}: names read as: {pairs}"),
    "names.pair": ("'{written}' -> {read}", "'{written}' -> {read}"),
    "tech.bands": ("{technology}, {bands: hoặc }", "{technology}, {bands: or }"),
    "names.matched": ("{file}: tên được đối chiếu gần đúng: {lines:; }",
                      "{file}: names matched tolerantly: {lines:; }"),
    "names.match": ("{column} '{value}' được đọc là '{match}' ({how}{scheme})",
                    "{column} '{value}' read as '{match}' ({how}{scheme})"),
    "dates.day_first": ("{file}: {n:,} ngày ở cột {column} được đọc theo thứ tự ngày trước "
                        "(DD/MM/YYYY){ambiguous}",
                        "{file}: {n:,} {column} date(s) read day first (DD/MM/YYYY)"
                        "{ambiguous}"),
    "dates.ambiguous": (", trong đó {n:,} ngày có thể đọc theo cả hai thứ tự (ngày và tháng "
                        "đều không quá 12, {example}; ngày trước là thứ tự của Việt Nam: "
                        "hãy viết YYYY-MM-DD cho chắc chắn)",
                        ", {n:,} of them ambiguous (day and month both 12 or less, "
                        "{example}; day first is the Vietnamese order: write YYYY-MM-DD to "
                        "be sure)"),
    "dates.serial": ("{file}: {n:,} giá trị ở cột {column} được đọc là ngày dạng số của "
                     "Excel (số ngày theo hệ ngày 1900 của Excel, {example})",
                     "{file}: {n:,} {column} value(s) read as Excel serial dates (days in "
                     "Excel's 1900 date system, {example})"),
    "dates.partial": ("{file}: {n:,} giá trị ở cột {column} chỉ ghi năm hoặc tháng, được "
                      "đọc là ngày đầu tiên ({example})",
                      "{file}: {n:,} {column} value(s) give only a year or a month, read as "
                      "its first day ({example})"),
    "coords.xy_swapped": ("{file}: x/y của {n:,} dòng được đọc là X = toạ độ bắc, Y = toạ "
                          "độ đông (quy ước trắc địa của Việt Nam)",
                          "{file}: x/y of {n:,} row(s) read as X = northing, Y = easting "
                          "(Vietnamese survey convention)"),
    "coords.reprojected": ("{file}: {n:,} dòng theo {crs} được chuyển sang WGS 84",
                           "{file}: {n:,} row(s) in {crs} reprojected to WGS 84"),
    # --- village layer (fileio.vectors)
    "villages.spellings_unified": ("{label}: thống nhất cách viết: {changes:; }",
                                   "{label}: spellings unified: {changes:; }"),
    "villages.spelling": ("{column} '{value}' ({n:,} thôn) được đọc là '{target}' ({how})",
                          "{column} '{value}' ({n:,} village(s)) read as '{target}' ({how})"),
    "villages.names_ambiguous": ("{label}: giữ nguyên tên như đã viết (có thể là nhiều đơn "
                                 "vị): {items:; }",
                                 "{label}: names left as written (they could be several "
                                 "units): {items:; }"),
    "villages.could_be": ("{column} '{value}' có thể là {candidates: hoặc }",
                          "{column} '{value}' could be {candidates: or }"),
    "villages.overlaps_unchecked": ("{label}: chưa kiểm tra được chồng lấn giữa các thôn "
                                    "({error})",
                                    "{label}: overlaps between villages not checked "
                                    "({error})"),
    "villages.overlap": ("{label}: {n:,} cặp thôn chồng lấn nhau (phần chung được tính cho "
                         "cả hai thôn): {pairs}{more}",
                         "{label}: {n:,} pair(s) of villages overlap (area counted in "
                         "both): {pairs}{more}"),
    "villages.overlap_pair": ("{a}/{b} ({ha:.1f} ha)", "{a}/{b} ({ha:.1f} ha)"),
    "villages.holes": ("{label}: {n:,} khoảng trống trong xã không thuộc thôn nào: "
                       "{holes}{more}",
                       "{label}: {n:,} hole(s) inside a commune that no village covers: "
                       "{holes}{more}"),
    "villages.hole": ("{commune} ({district}) {ha:.1f} ha", "{commune} ({district}) {ha:.1f} ha"),
    "villages.repaired": ("đã sửa {n:,} đa giác thôn không hợp lệ bằng make_valid: "
                          "{ids}{more}",
                          "repaired {n:,} invalid village polygon(s) with make_valid: "
                          "{ids}{more}"),
    "villages.no_centres": ("không có lớp trung tâm thôn: trung tâm thôn là một điểm đại "
                            "diện bên trong mỗi đa giác, không phải nhà văn hoá",
                            "no village centre layer: the village centre is a representative "
                            "point inside each polygon, not the cultural house"),
    "villages.centres_missing": ("{n:,} thôn không có điểm trung tâm: dùng một điểm đại diện "
                                 "bên trong đa giác",
                                 "{n:,} village(s) without a centre point: using a "
                                 "representative point inside the polygon"),
    "inputs.no_settlements": ("không có tệp cụm hộ dân: tỷ lệ dân số được tính theo diện "
                              "tích", "no household clusters: population shares are "
                              "area-weighted"),
    # --- district and 2025-commune layers (fileio.admin)
    "admin.repeated_pairs": ("{file}: dòng {rows} lặp lại một cặp đã có (bỏ qua)",
                             "{file}: row(s) {rows} repeat an earlier pair (ignored)"),
    "admin.paired_against_geometry": ("{table}, dòng {row}: '{layer_name}' được ghép với "
                                      "{level} '{unit}' {detail}",
                                      "{table}, row {row}: '{layer_name}' paired with the "
                                      "{level} '{unit}' {detail}"),
    "admin.although": ("dù {holds} nằm trong {shown}", "although {holds} lie in {shown}"),
    "admin.holds": ("{k:,}/{n:,} thôn của đơn vị này", "{k:,} of its {n:,} villages"),
    "admin.feature": ("đối tượng {n} (không có tên)", "feature {n} (no name)"),
    "admin.geometry_decides": ("tên này cũng có thể là {rivals}; vị trí quyết định: đa giác "
                               "chứa {holds}",
                               "the name could also be {rivals}; the geometry decides: it "
                               "holds {holds}"),
    "admin.fuzzy_pairs": ("{label}: {n:,} tên {level} được ghép với cách viết của lớp thôn "
                          "(tên trong lớp -> tên theo thôn (cách ghép)): {lines:; }",
                          "{label}: {n:,} {level} name(s) paired with the villages' spelling "
                          "(layer name -> villages' name (how)): {lines:; }"),
    "admin.pair": ("'{layer_name}' -> '{unit}' ({how})", "'{layer_name}' -> '{unit}' ({how})"),
    "admin.pair_detail": ("'{layer_name}' -> '{unit}' ({how}; {detail})",
                          "'{layer_name}' -> '{unit}' ({how}; {detail})"),
    "admin.dropped": ("{label}: đã bỏ {n:,} đa giác của {levels} khác: {parts:; }",
                      "{label}: dropped {n:,} polygon(s) of other {levels}: {parts:; }"),
    "admin.dropped_plain": ("{n:,} đa giác không chứa thôn nào và không khớp tên nào của lớp "
                            "thôn: {items}{more}",
                            "{n:,} holding no village and matching no villages' name: "
                            "{items}{more}"),
    "admin.dropped_other": ("{n:,} đa giác không được ghép với đơn vị nào: {items}{more}",
                            "{n:,} paired with no unit: {items}{more}"),
    "admin.dropped_item": ("{shown} ({bits})", "{shown} ({bits})"),
    "admin.holds_villages": ("chứa {k:,} thôn của '{unit}'", "holds {k:,} village(s) of "
                             "'{unit}'"),
    "admin.named_like": ("có tên giống {units: hoặc }", "named like {units: or }"),
    # --- study area and DEM (fileio.extents)
    "extents.cells_dropped": ("{file}: đã loại {n:,} cell trên {sites:,} trạm nằm ngoài vùng "
                              "nghiên cứu (cách mọi thôn xa hơn bán kính tính toán của "
                              "chúng); danh sách trong dropped_rows.csv",
                              "{file}: {n:,} cell(s) on {sites:,} site(s) outside the study "
                              "area (farther from every village than their computation "
                              "radius) dropped; listed in dropped_rows.csv"),
    "extents.site_rows_dropped": (
        "{file}: đã loại {cells:,} cell trên {n:,} trạm nằm ngoài vùng nghiên cứu (cách mọi "
        "thôn xa hơn bán kính tính toán của chúng): các dòng {rows}{more} của danh sách trạm; "
        "danh sách trong dropped_rows.csv",
        "{file}: {cells:,} cell(s) on {n:,} site(s) outside the study area (farther from every "
        "village than their computation radius) dropped: rows {rows}{more} of the site list; "
        "listed in dropped_rows.csv"),
    "extents.nodes_dropped": ("{file}: đã loại {n:,} nút FTTH nằm ngoài vùng nghiên cứu "
                              "(cách mọi thôn xa hơn tầm GPON); danh sách trong "
                              "dropped_rows.csv",
                              "{file}: {n:,} FTTH node(s) outside the study area (farther "
                              "from every village than the GPON reach) dropped; listed in "
                              "dropped_rows.csv"),
    "dem.beyond_edge": ("{n:,} trạm có bán kính tính toán vượt ra ngoài mép DEM: vùng phủ "
                        "chỉ được tính bên trong DEM (mọi thôn đều nằm trong DEM): "
                        "{sites}{more}",
                        "{n:,} site(s) reach beyond the DEM edge within their computation "
                        "radius: coverage is computed inside the DEM only (every village is "
                        "inside): {sites}{more}"),
    "dem.beyond_edge_sites": (
        "{file}: {n:,} dòng trạm có bán kính tính toán vượt ra ngoài mép DEM: vùng phủ chỉ "
        "được tính bên trong DEM (mọi thôn đều nằm trong DEM): dòng {rows}{more}",
        "{file}: {n:,} site row(s) reach beyond the DEM edge within their computation radius: "
        "coverage is computed inside the DEM only (every village is inside): rows "
        "{rows}{more}"),
    "dem.holes": ("DEM có {n:,} điểm ảnh không có dữ liệu (nodata, {km2:.2f} km²) trong vùng "
                  "các thôn: các điểm ảnh phía sau chúng là 'không xác định', không bao giờ "
                  "được coi là mực nước biển{centres}",
                  "the DEM has {n:,} nodata pixel(s) ({km2:.2f} km²) in the village area: "
                  "pixels behind them are 'unknown', never sea level{centres}"),
    "dem.holes_centres": ("; các thôn có nodata tại trung tâm: {ids}{more}",
                          "; villages with nodata at their centre: {ids}{more}"),
    # --- DEM tiles in degrees (fileio.dem_tiles)
    "dem.tiles": ("{n:,} mảnh DEM ({products}) đã được ghép và chiếu lại từ {src} sang {dst} "
                  "với độ phân giải {res:g} m ({how}), nội suy song tuyến, nodata giữ là "
                  "'không xác định'; cắt theo vùng các thôn cộng bán kính tính toán lớn nhất "
                  "({km:g} km): {w:,} × {h:,} điểm ảnh{unused}",
                  "{n:,} DEM tile(s) ({products}) mosaicked and reprojected from {src} to "
                  "{dst} at {res:g} m ({how}), bilinear, nodata kept as unknown; clipped to "
                  "the villages plus the largest computation radius ({km:g} km): "
                  "{w:,} × {h:,} pixels{unused}"),
    "dem.res_native": ("độ phân giải gốc của các mảnh {native}", "the tiles' native {native}"),
    "dem.res_configured": ("theo [inputs] dem_resolution_m; độ phân giải gốc của các mảnh "
                           "{native}",
                           "[inputs] dem_resolution_m; the tiles' native {native}"),
    "dem.tiles_unused": ("; {n:,} mảnh nằm ngoài vùng đó không được đọc",
                         "; {n:,} tile(s) outside that area not read"),
    "dem.tiles_mixed": ("các mảnh DEM có nhiều độ phân giải ({res}): ghép ở độ phân giải mịn "
                        "nhất ({finest}); nơi các mảnh chồng lên nhau, dùng mảnh mịn nhất, "
                        "các mảnh khác lấp chỗ trống của nó",
                        "DEM tiles of several resolutions ({res}): mosaicked at the finest "
                        "({finest}); where tiles overlap, the finest is used and the others "
                        "fill its voids"),
    "dem.tiles_cached": ("{n:,} mảnh DEM: ảnh ghép được lấy từ bộ nhớ đệm của không gian làm "
                         "việc (cùng các mảnh theo sha256, cùng CRS làm việc, độ phân giải và "
                         "phạm vi)",
                         "{n:,} DEM tile(s): the mosaic was taken from the workspace cache "
                         "(same tiles by sha256, working CRS, resolution and extent)"),
    "dem.tiles_skipped": ("đã bỏ qua {n:,} tệp trong thư mục DEM (mặt nạ phụ trợ của "
                          "Copernicus, không phải độ cao): {names}{more}",
                          "{n:,} file(s) in the DEM folder skipped (Copernicus auxiliary "
                          "masks, not heights): {names}{more}"),
    "dem.surface_model": ("DEM là mô hình bề mặt (DSM) ({how}){kinds}. Độ cao bao gồm (toàn "
                          "bộ hoặc một phần) cây và nhà: dọc đường truyền, tán rừng và mái "
                          "nhà được coi như địa hình đặc (vùng phủ phía sau rừng và khu nhà "
                          "có xu hướng bi quan, dù tán lá thật cũng làm suy hao tín hiệu), "
                          "còn máy thu và anten, đặt ở độ cao của chúng so với bề mặt đó, "
                          "nằm trên tán cây và mái nhà (độ thông thoáng ở đó lạc quan)",
                          "the DEM is a surface model (DSM) ({how}){kinds}. Heights include "
                          "trees and buildings, wholly or in part: along a path, forest "
                          "canopy and roofs act as solid terrain (coverage behind forest and "
                          "built-up areas tends to be pessimistic, although real foliage "
                          "also attenuates), while handsets and antennas, placed at their "
                          "height above that surface, sit on top of the canopy and roofs "
                          "(their clearance is optimistic there)"),
    "dem.terrain_model": ("DEM là mô hình địa hình (mặt đất trần, không có cây và nhà) "
                          "({how}){kinds}",
                          "the DEM is a terrain model (bare earth, without trees and "
                          "buildings) ({how}){kinds}"),
    "dem.model_unknown": ("các mảnh DEM {names}: tên tệp không cho biết đó là mô hình bề mặt "
                          "(cây, mái nhà) hay mô hình địa hình mặt đất trần: hãy đặt [inputs] "
                          "dem_surface_model = true hoặc false (Copernicus, SRTM, NASADEM và "
                          "ALOS là mô hình bề mặt)",
                          "DEM tiles {names}: their names do not tell whether they are a "
                          "surface model (trees, roofs) or a bare-earth terrain model: set "
                          "[inputs] dem_surface_model = true or false (Copernicus, SRTM, "
                          "NASADEM and ALOS are surface models)"),
    "dem.model_configured": ("theo [inputs] dem_surface_model = {value}",
                             "[inputs] dem_surface_model = {value}"),
    "dem.model_guessed": ("đoán từ tên tệp: hãy đặt [inputs] dem_surface_model để xác nhận",
                          "guessed from the file names: set [inputs] dem_surface_model to "
                          "confirm"),
    "dem.kinds": (": {kinds:; }", ": {kinds:; }"),
    "dem.kind_copernicus": ("{label}: mô hình bề mặt từ radar băng X (TanDEM-X), độ cao của "
                            "tán cây và mái nhà",
                            "{label}: X-band radar surface model (TanDEM-X), the height of "
                            "the tree canopy and of roofs"),
    "dem.kind_srtm": ("{label}: radar băng C (SRTM, tháng 2/2000): trong rừng, độ cao nằm "
                      "giữa mặt đất và đỉnh tán (radar xuyên qua một phần tán), có cả nhà cửa",
                      "{label}: C-band radar (SRTM, February 2000): in forest the heights lie "
                      "between the ground and the canopy top (the radar partly penetrates "
                      "it), buildings included"),
    "dem.kind_alos": ("{label}: mô hình bề mặt từ ảnh quang học lập thể: tán cây và mái nhà",
                      "{label}: optical stereo surface model: tree canopy and roofs"),
    "dem.kind_fabdem": ("{label}: Copernicus GLO-30 đã loại bỏ rừng và nhà (mặt đất trần)",
                        "{label}: Copernicus GLO-30 with forests and buildings removed (bare "
                        "earth)"),
    # --- coverage, roads, FTTH, remote gaps, towers, KPIs, the run
    "coverage.domain": ("{n:,} cell nằm ngoài miền hợp lệ của mô hình '{model}' (tần số "
                        "hoặc độ cao anten)",
                        "{n:,} cell(s) outside the validity domain of model '{model}' "
                        "(frequency or antenna height)"),
    "coverage.warning": ("cảnh báo khi tính vùng phủ: {text}", "{text}"),
    "roads.noded_none": ("các tuyến đường được nối trong phạm vi {tol:g} m: không có đầu "
                         "tuyến nào cần nối (không có điểm cụt nào nằm trên, hoặc cách trong "
                         "vòng {tol:g} m, một tuyến mà nó chưa gặp)",
                         "road lines noded within {tol:g} m: no line end needed joining (no "
                         "dead end lies on, or within {tol:g} m of, a line it does not "
                         "already meet)"),
    "roads.noded": ("các tuyến đường được nối trong phạm vi {tol:g} m: {ends:,} đầu tuyến "
                    "nằm trên một tuyến khác, hoặc dừng ngay trước nó, mà không có đỉnh chung "
                    "đã được nối vào tuyến đó tại {junctions:,} nút giao mới (khoảng hở lớn "
                    "nhất {gap:.1f} m); các tuyến chỉ cắt ngang nhau (cầu) không được nối",
                    "road lines noded within {tol:g} m: {ends:,} line end(s) lying on "
                    "another line, or short of it, without a shared vertex were joined to "
                    "it at {junctions:,} new junction(s) (largest gap {gap:.1f} m); lines "
                    "that merely cross (bridges) are not joined"),
    "ftth.method_straight": ("theo đường chim bay × {factor:g} (không có mạng lưới đường)",
                             "straight line x {factor:g} (no road network)"),
    "ftth.method_roads": ("theo mạng lưới đường (bám đường ≤ {snap:g} m)",
                          "along the road network (snap <= {snap:g} m)"),
    "ftth.note_straight": (
        "Tầm phủ FTTH: không có mạng lưới đường nên mọi tuyến cáp là khoảng cách đường chim "
        "bay × {factor:g}; một hộ được phục vụ khi có bộ chia còn cổng trống trong vòng "
        "{drop:g} m và tuyến từ bộ chia đó tới OLT của nó không quá {gpon:g} m (được đánh "
        "dấu trong cột ftth_method)",
        "FTTH reach: no road network, so every route is the straight-line distance x "
        "{factor:g}; households are passed by a splitter with a free port within {drop:g} m "
        "whose route to its OLT is within {gpon:g} m (flagged in ftth_method)"),
    "ftth.note_roads": (
        "Tầm phủ FTTH theo mạng lưới đường ({km:,.0f} km đường, {edges:,} cạnh): bộ chia, "
        "OLT, trung tâm thôn và cụm hộ dân được gắn vào đường gần nhất trong vòng {snap:g} m "
        "(đoạn gắn được tính vào mọi khoảng cách); một hộ được phục vụ khi có bộ chia còn "
        "cổng trống trong vòng {drop:g} m theo đường và tuyến từ bộ chia đó tới OLT không "
        "quá {gpon:g} m (GPON); cổng được trừ dần theo cặp gần nhất trước; đường ngắn nhất "
        "tính bằng thuật toán Dijkstra nhiều nguồn có ngưỡng cắt",
        "FTTH reach along the road network ({km:,.0f} km of road, {edges:,} edges): "
        "splitters, OLTs, village centres and household clusters are snapped to the nearest "
        "road within {snap:g} m (the snap leg counts in every distance); a household is "
        "passed when a splitter with a free port is within {drop:g} m along the roads and "
        "that splitter's route to its OLT is within {gpon:g} m (GPON); ports are counted "
        "down nearest pair first; shortest paths by multi-source Dijkstra with cut-offs"),
    "ftth.offnetwork": ("ngoài mạng lưới đường (cách mọi tuyến đường hơn {snap:g} m, không "
                        "tới được bằng đường, không gắn vượt qua): {counts} ({households:,} "
                        "hộ); xem cột ftth_offnetwork",
                        "off the road network (farther than {snap:g} m from any road, "
                        "unreachable by road, not snapped across): {counts} "
                        "({households:,} households); see ftth_offnetwork"),
    "ftth.n_splitters": ("{n:,} bộ chia", "{n:,} splitter(s)"),
    "ftth.n_olts": ("{n:,} OLT", "{n:,} OLT(s)"),
    "ftth.n_centres": ("{n:,} trung tâm thôn", "{n:,} village centre(s)"),
    "ftth.n_clusters": ("{n:,} cụm hộ dân", "{n:,} household cluster(s)"),
    "ftth.unusable": ("{n:,} trong {total:,} bộ chia không dùng được: {counts}; xem "
                      "ftth_splitters.csv",
                      "{n:,} of {total:,} splitter(s) unusable: {counts}; see "
                      "ftth_splitters.csv"),
    "ftth.reason_count": ("{n:,} {reason}{detail}", "{n:,} {reason}{detail}"),
    "ftth.route_over": (" (tuyến > {m:g} m)", " (route > {m:g} m)"),
    "ftth.not_covered": ("{n:,} trong {total:,} thôn chưa có cáp quang FTTH: {counts}; xem "
                         "cột ftth_reason (bộ chia đã dành hết cổng cho hộ của thôn khác thì "
                         "không phục vụ trung tâm thôn nào)",
                         "{n:,} of {total:,} village(s) not FTTH-covered: {counts}; see "
                         "ftth_reason (a splitter whose ports all went to other villages' "
                         "households passes no village centre)"),
    "run.unknown_pixels": ("{n:,} thôn có điểm ảnh không xác định được vùng phủ (DEM thiếu "
                           "dữ liệu trên đường truyền); xem cột unknown_share",
                           "{n:,} village(s) have pixels of unknown coverage (DEM nodata "
                           "along the path); see unknown_share"),
    "run.fibre_roads": ("đoạn đường sẵn sàng cho cáp quang (trong vòng {drop:g} m theo đường "
                        "tới một bộ chia dùng được): {km:,.0f} km",
                        "fibre-ready roads (within {drop:g} m of a usable splitter along the "
                        "roads): {km:,.0f} km"),
    "run.no_ftth": ("không có tệp nút FTTH: chỉ tiêu FTTH không được tính",
                    "no FTTH node file: the FTTH KPI is not computed"),
    "remote.no_towns": ("thôn vùng sâu, xa: không có vị trí thị trấn huyện (lớp huyện với "
                        "town_lon/town_lat); tiêu chí khoảng cách tới thị trấn không được áp "
                        "dụng",
                        "remote gaps: no district town positions (districts layer with "
                        "town_lon/town_lat); the distance-to-town criterion is not applied"),
    "remote.no_roads": ("thôn vùng sâu, xa: không có mạng lưới đường; tiêu chí khoảng cách "
                        "tới đường không được áp dụng",
                        "remote gaps: no road network; the distance-to-road criterion is not "
                        "applied"),
    "towers.same_tower": (
        "các trạm cách nhau không quá {m:g} m được tính là một cột trong chỉ tiêu BTS dùng "
        "chung (mỗi nhà mạng tự đặt mã trạm của mình; [kpi] same_tower_m): {n_sites:,} mã "
        "trạm tạo thành {n_groups:,} cột có nhiều mã trạm (mã trạm, nhà mạng, khoảng cách "
        "lớn nhất): {groups:; }{more}",
        "sites within {m:g} m of each other are one tower in the shared-BTS KPI (each "
        "operator numbers its own sites; [kpi] same_tower_m): {n_sites:,} site ids form "
        "{n_groups:,} tower(s) of several site ids (site ids, operators, largest distance): "
        "{groups:; }{more}"),
    "towers.group": ("{sites} ({operators}; {m:.0f} m{owners})",
                     "{sites} ({operators}; {m:.0f} m{owners})"),
    "towers.owners_differ": ("; chủ sở hữu cột khác nhau: {owners}",
                             "; owners differ: {owners}"),
    "towers.more": ("; ... và {n:,} cột khác", "; ... and {n:,} more"),
    # the KPI details are in kpi.csv too (English): numbers there as they always were
    "kpi.detail_mbb": ("{covered:,} có sóng, {lom:,} lõm sóng, {trang:,} trắng sóng, "
                       "{unknown:,} không xác định",
                       "{covered} covered, {lom} lõm sóng, {trang} trắng sóng, "
                       "{unknown} unknown"),
    "kpi.detail_bts": ("BTS phát sóng từ {start} đến {end}; {rule}",
                       "BTS commissioned {start} to {end}; {rule}"),
    "kpi.rule_not_grouped": ("chỉ các trạm cùng site_id là một cột (không gộp trạm theo "
                             "khoảng cách)",
                             "only equal site_id is one tower (sites not grouped by "
                             "distance)"),
    "kpi.rule_zero": ("chỉ các trạm cùng site_id là một cột ([kpi] same_tower_m = 0)",
                      "only equal site_id is one tower ([kpi] same_tower_m = 0)"),
    "kpi.rule_distance": ("các trạm cách nhau không quá {m:g} m là một cột ({n:,} nhóm có "
                          "nhiều mã trạm)",
                          "sites within {m:g} m are one tower ({n} group(s) of several "
                          "site ids)"),
    # --- site-level BTS lists (fileio.sites) and OpenCelliD (fileio.opencellid)
    "sites.expanded": (
        "{file}: {n:,} cell từ {sites:,} dòng trạm với tham số sector mặc định ({defaults}); "
        "cột params_source của mỗi cell ghi các giá trị mặc định đã dùng: {fields}",
        "{file}: {n:,} cells from {sites:,} site rows with default sector parameters "
        "({defaults}); each cell's params_source names the defaults it took: {fields}"),
    "sites.field": ("{field} cho {n:,} cell", "{field} on {n:,} cells"),
    "sites.cells_win": (
        "{file}: {n:,} công nghệ của {sites:,} trạm đã có trong bảng cell {cells}: dùng các "
        "cell của bảng đó (bảng cell được ưu tiên)",
        "{file}: {n:,} technologies of {sites:,} sites are in the cell table {cells}: its "
        "cells are used (the cell table wins)"),
    "sites.crowd_sourced": (
        "{file}: {n:,} trạm lấy từ {name}: vị trí cell do cộng đồng thu thập là ước lượng, "
        "thường lệch hàng trăm mét; vùng phủ quanh các trạm này chỉ là gần đúng",
        "{file}: {n:,} sites from {name}: crowd-sourced cell positions are estimates, often "
        "hundreds of metres off; the coverage around them is approximate"),
    "sites.defaults_overridden": (
        "{file}: tham số mặc định của trạm lấy từ bảng {defaults}, thay cho các dòng tương "
        "ứng của bảng có sẵn",
        "{file}: site defaults from {defaults} replace the shipped ones they give"),
    "sites.popup_defaults": ("tham số sector mặc định (danh sách trạm)",
                             "default sector parameters (site list)"),
    "opencellid.position": (
        "vị trí trạm là trọng tâm các vị trí cell của OpenCelliD trong bán kính gộp "
        "{distance:g} m: ước lượng do cộng đồng thu thập, thường lệch hàng trăm mét",
        "site positions are the centres of OpenCelliD cell positions clustered within "
        "{distance:g} m: crowd-sourced estimates, often hundreds of metres off"),
    "opencellid.dropped": ("đã bỏ {n:,} dòng: {reason}", "dropped {n:,} rows: {reason}"),
    "opencellid.unknown_mnc": (
        "MNC không có trong bảng mã của Việt Nam (ITU-T E.212): {codes}",
        "MNC not in Vietnam's table of codes (ITU-T E.212): {codes}"),
    "opencellid.closed_mnc": ("MNC của mạng đã đóng cửa: {codes}",
                              "MNC of networks closed since: {codes}"),
    "opencellid.not_configured": (
        "nhà mạng không thuộc [kpi] operators: {codes} (thêm vào cấu hình để giữ lại)",
        "operators not in [kpi] operators: {codes} (add them to the config to keep them)"),
    "opencellid.cdma": ("CDMA (không có mạng CDMA ở Việt Nam)",
                        "CDMA (Vietnam has no CDMA network)"),
    "opencellid.radio": ("công nghệ không đọc được: {radios}",
                         "radio not read: {radios}"),
    "workspace.run": ("lần chạy {run_id} của thư mục làm việc ({mode}) lúc {time}; dữ liệu "
                      "vào, cấu hình, phiên bản và mã kiểm tra (checksum) trong manifest.json",
                      "workspace run {run_id} ({mode}) on {time}; inputs, configuration, "
                      "versions and checksums in manifest.json"),
    # --- villages given as points or names (fileio.village_points)
    "vpoints.voronoi": ("{n:,} thôn: diện tích thôn dựng bằng ô Voronoi quanh điểm của thôn, "
                        "cắt theo ranh giới xã ({communes:,} xã; geom_method = voronoi)",
                        "{n:,} villages: areas built as Voronoi cells of their points clipped "
                        "to their commune ({communes:,} communes; geom_method = voronoi)"),
    "vpoints.communes_matched": ("tên xã của {n:,} thôn được đọc theo lớp ranh giới xã: "
                                 "{pairs:; }{more}",
                                 "{n:,} commune name(s) of the village list read as the "
                                 "communes layer names them: {pairs:; }{more}"),
    "vpoints.pair": ("'{value}' là '{target}' ({how})", "'{value}' read as '{target}' ({how})"),
    "vpoints.districts_unified": (
        "lớp ranh giới xã viết tên huyện theo nhiều cách: {n:,} cách viết được coi là cùng "
        "một huyện: {pairs:; }{more}",
        "the communes layer spells districts several ways: {n:,} spelling(s) read as one "
        "district: {pairs:; }{more}"),
    "vpoints.districts_apart": (
        "lớp ranh giới xã có {n:,} nhóm tên huyện trùng nhau khi bỏ dấu hoặc tiền tố nhưng "
        "được giữ là các huyện khác nhau: {groups:; }; thôn ghi huyện không đủ dấu để phân "
        "biệt thì xã được tìm trong mọi huyện",
        "the communes layer has {n:,} group(s) of district names that are one name without "
        "their marks or prefix but are kept as different districts: {groups:; }; a village "
        "whose district is not written fully enough to pick one has its commune looked for "
        "among every district"),
    "vpoints.ids_built": ("tệp không có cột village_id: mã của {n:,} thôn được dựng từ mã xã "
                          "và thứ tự của thôn trong xã theo tệp (ví dụ {first}); giữ nguyên "
                          "thứ tự dòng để mã không đổi",
                          "the file has no village_id column: the ids of {n:,} villages are "
                          "built from the commune id and the village's order in the file "
                          "within its commune (e.g. {first}); keep the row order for stable "
                          "ids"),
    "vpoints.defaults": ("không có giá trị cho {columns} ở một số thôn: dân số và số hộ lấy "
                         "bằng 0, xã mới (2025) lấy bằng xã cũ",
                         "no value for {columns} for some villages: population and households "
                         "are 0, commune_2025 is the commune itself"),
    "vpoints.centres_layer": ("trung tâm của {n:,} thôn lấy từ lớp '{layer}' (theo "
                              "village_id), thay cho điểm của danh sách thôn",
                              "the centre of {n:,} villages is taken from layer '{layer}' "
                              "(by village_id) instead of the village list's point"),
    "vpoints.places": ("điểm của {n:,}/{total:,} thôn lấy từ tệp địa danh, ghép theo xã và "
                       "tên ({exact:,} trùng khớp; {outside:,} địa danh nằm ngoài mọi xã bị "
                       "bỏ qua); các cặp ghép không trùng khớp: {pairs:; }{more}",
                       "the points of {n:,}/{total:,} villages come from the places file, "
                       "paired by commune and name ({exact:,} exact; {outside:,} place(s) "
                       "outside every commune ignored); pairings other than exact: "
                       "{pairs:; }{more}"),
    "vpoints.place_pair": ("thôn '{village}' ({commune}) = địa danh '{place}' ({how}{prefix})",
                           "village '{village}' ({commune}) = place '{place}' ({how}"
                           "{prefix})"),
    "vpoints.prefix_dropped": (", bỏ tiền tố thôn/bản", ", village prefix dropped"),
}
# why a village has no FTTH or a splitter is not usable, in a note: the code itself in
# English (``2 splitter full``), the map's label in Vietnamese
_NOTES.update({f"ftth_reason.{code}": (vi, code) for code, (vi, _en) in _FTTH_REASONS.items()})


def match_how(how: str) -> Param:
    """How a name was matched (a stage of :mod:`vncoverage.names`, e.g. ``missing marks``,
    or ``admin_names``) as a message parameter; an unknown code as it is."""
    key = "how." + how.replace(", ", "_").replace(" ", "_")
    return Message(key) if key in _NOTES else how


# --- partial runs ([run] analyses), FTTH nodes as vector points, layer names
_NOTES.update({
    "analysis.mobile": ("vùng phủ sóng di động", "mobile coverage"),
    "analysis.fibre": ("cáp quang FTTH", "FTTH fibre"),
    "inputs.analysis_ignored": (
        "[run] analyses = {asked}: không đọc {keys} ({analysis} không được tính)",
        "[run] analyses = {asked}: {keys} not read ({analysis} is not computed)"),
    "inputs.fibre_only": (
        "chỉ tính cáp quang FTTH: không có DEM và danh sách trạm (cells/sites); vùng phủ "
        "sóng di động không được tính",
        "fibre-only run: no DEM and no cells or sites given; mobile coverage is not "
        "computed"),
    "inputs.layer_ignored": ("[inputs] {key} = '{layer}' bị bỏ qua: tệp là một bảng, không "
                             "phải lớp vector",
                             "[inputs] {key} = '{layer}' ignored: the file is a table, not a "
                             "vector layer"),
    "inputs.geometry_gives": ("vị trí lấy từ hình học của điểm",
                              "the point geometry gives the position"),
    "inputs.vector_read": ("{driver}, lớp '{layer}', hệ toạ độ {crs}; vị trí là các điểm",
                           "{driver}, layer '{layer}', CRS {crs}; positions from the points"),
    "run.mobile_not_run": (
        "vùng phủ sóng di động không được tính (chỉ tính cáp quang): không có raster vùng "
        "phủ, villages.csv không có các cột sóng di động, các chỉ tiêu sóng di động và BTS "
        "không được tính",
        "mobile coverage not computed (fibre-only run): no coverage rasters, no mobile "
        "columns in villages.csv, the mobile and BTS KPIs are not computed"),
    "run.fibre_not_run": (
        "cáp quang FTTH không được tính (chỉ tính sóng di động): villages.csv không có các "
        "cột FTTH, chỉ tiêu FTTH không được tính",
        "FTTH not computed (mobile-only run): no FTTH columns in villages.csv, the FTTH KPI "
        "is not computed"),
    "kpi.not_run": ("không tính: lần chạy không gồm {analysis}",
                    "not computed: the run does not include {analysis}"),
})

# --- clutter at the receiver (ITU-R P.2108 §3.1 on a land-cover raster)
_NOTES.update({
    "clutter.applied": (
        "suy hao do vật che chắn (cây, nhà) tại máy thu theo ITU-R P.2108-1 §3.1, từ lớp "
        "phủ mặt đất (máy thu cao {h:g} m; bảng lớp {table}; chiếu lại từ {crs} bằng "
        "phương pháp {how}): áp dụng cho {classes:; }; {diff:.1f} % điểm ảnh DEM có suy "
        "hao nhiễu xạ qua mép vật che chắn (2a), {gain:.1f} % có suy hao độ cao (2b)",
        "clutter loss at the receiver, ITU-R P.2108-1 §3.1, from the land cover (receiver "
        "{h:g} m; class table {table}; reprojected from {crs} by {how}): applied for "
        "{classes:; }; {diff:.1f} % of the DEM's pixels get the clutter-edge diffraction "
        "loss (2a), {gain:.1f} % the height-gain loss (2b)"),
    "clutter.above_3ghz": (
        "{n:,} cell có tần số trên 3 GHz ({freqs} MHz): P.2108 §3.1 áp dụng cho 0,03–3 GHz, "
        "suy hao vật che chắn của chúng được tính tại 3 GHz (giá trị tối thiểu: suy hao "
        "tăng theo tần số)",
        "{n:,} cell(s) above 3 GHz ({freqs} MHz): P.2108 §3.1 covers 0.03–3 GHz, their "
        "clutter loss is evaluated at 3 GHz (a lower bound: the loss grows with "
        "frequency)"),
    "clutter.no_data": (
        "{pct:.1f} % điểm ảnh DEM không có dữ liệu lớp phủ mặt đất: không tính suy hao vật "
        "che chắn ở đó",
        "{pct:.1f} % of the DEM's pixels have no land cover: no clutter loss there"),
    "clutter.surface_model": (
        "DEM là mô hình bề mặt (DSM) mà suy hao vật che chắn vẫn được áp dụng: tán cây và "
        "mái nhà đã có trong độ cao DEM lại được tính thêm một lần nữa tại máy thu (suy hao "
        "bị tính hai lần, vùng phủ bi quan). Hãy dùng DEM mặt đất trần (ví dụ FABDEM) hoặc "
        "đặt [radio] clutter = false",
        "the DEM is a surface model (DSM) and clutter is also applied: the canopy and roofs "
        "already in the DEM's heights are counted a second time at the receiver (double "
        "counting, pessimistic coverage). Use a bare-earth DEM (e.g. FABDEM) or set [radio] "
        "clutter = false"),
    "clutter.off": (
        "[radio] clutter = false: không dùng lớp phủ mặt đất, không tính suy hao vật che "
        "chắn tại máy thu",
        "[radio] clutter = false: the land cover is not used, no clutter loss at the "
        "receiver"),
})
_STRINGS.update({
    "status_not_run_fibre_only": ("không tính (chỉ tính cáp quang)",
                                  "not computed (fibre-only run)"),
    "status_not_run_mobile_only": ("không tính (chỉ tính sóng di động)",
                                   "not computed (mobile-only run)"),
    "analyses_run": ("Phân tích: {ran}", "Analyses: {ran}"),
    "analyses_not_run": ("Không tính: {missing}", "Not computed: {missing}"),
    "map_mobile_not_run": ("Vùng phủ sóng di động không được tính (chỉ tính cáp quang): "
                           "bản đồ không có lớp vùng phủ sóng",
                           "Mobile coverage not computed (fibre-only run): the map has no "
                           "coverage layers"),
    "map_fibre_not_run": ("Cáp quang FTTH không được tính (chỉ tính sóng di động)",
                          "FTTH fibre not computed (mobile-only run)"),
    "val_summary_fibre": ("{villages} thôn; {nodes} nút FTTH; chỉ tính cáp quang (không có "
                          "DEM và danh sách trạm)",
                          "villages: {villages}; FTTH nodes: {nodes}; fibre-only run (no "
                          "DEM, no cells)"),
})

# --- "why is my village not covered?" (vncoverage.explain, ``vncoverage explain``)
_STRINGS.update({
    "ex_title": ("Giải thích vùng phủ {tech}: {name}", "{tech} coverage explained: {name}"),
    "ex_place": ("{id}, {commune}, {district}", "{id}, {commune}, {district}"),
    "ex_verdict": ("Kết luận {tech} (mọi nhà mạng): {verdict}; điểm trung tâm có sóng: "
                   "{centre}; dân số có sóng: {share} %",
                   "{tech} verdict (any operator): {verdict}; centre covered: {centre}; "
                   "population covered: {share} %"),
    "ex_rule": ("Có sóng khi mức thu ≥ ngưỡng {thr:g} dBm + dự phòng vị trí {margin:.1f} dB "
                "= {target:.1f} dBm, tại pixel chứa điểm trung tâm",
                "Covered when the level ≥ threshold {thr:g} dBm + location margin "
                "{margin:.1f} dB = {target:.1f} dBm, at the pixel holding the centre"),
    "ex_run_best": ("Lần chạy (villages.csv): mức {tech} tốt nhất tại trung tâm {level} dBm, "
                    "cell {cell}",
                    "The run (villages.csv): best {tech} level at the centre {level} dBm, "
                    "cell {cell}"),
    "ex_same": ("Tính lại ở đây: {level} dBm, cell {cell}: bằng kết quả lần chạy",
                "Recomputed here: {level} dBm, cell {cell}: equal to the run's"),
    "ex_differs": ("Tính lại ở đây: {level} dBm, cell {cell}: KHÁC kết quả lần chạy (cấu "
                   "hình, dữ liệu hoặc phiên bản khác?)",
                   "Recomputed here: {level} dBm, cell {cell}: DIFFERS from the run's "
                   "(another configuration, input or version?)"),
    "ex_reaching": ("{n} cell {tech} có bán kính tính toán ({km:g} km) tới thôn",
                    "{n} {tech} cells reach the village (computation radius {km:g} km)"),
    "ex_sec_change": ("Điều gì sẽ thay đổi kết luận", "What would change the verdict"),
    "ex_change_covered": ("Điểm trung tâm đã có sóng: cell {cell}, cao hơn mức cần "
                          "{margin:.1f} dB",
                          "The centre is covered: cell {cell}, {margin:.1f} dB above the "
                          "level needed"),
    "ex_change_weak": ("nhưng chỉ {share:.0f} % dân số có sóng (dưới tỷ lệ yêu cầu): các "
                       "cụm dân cư chưa có sóng nằm ngoài trung tâm",
                       "but only {share:.0f} % of the population is covered (below the "
                       "required share): the uncovered household clusters lie away from "
                       "the centre"),
    "ex_change_raise": ("+{m:.0f} m chiều cao anten tại trạm {site} (cell {cell}, "
                        "{operator}): {level:.1f} dBm tại trung tâm ≥ {target:.1f} dBm "
                        "(cùng mô hình {model} của lần chạy)",
                        "+{m:.0f} m antenna height at {site} (cell {cell}, {operator}): "
                        "{level:.1f} dBm at the centre ≥ {target:.1f} dBm (the run's model, "
                        "{model})"),
    "ex_change_clear": ("Vượt hẳn vật cản (vùng Fresnel thứ nhất đủ thông thoáng để J = 0) "
                        "cần +{m:.0f} m tại {site}",
                        "Clearing the obstacle (first Fresnel zone clear enough for J = 0) "
                        "would take +{m:.0f} m at {site}"),
    "ex_change_none": ("Không trạm hiện có nào trong bán kính {km:g} km đạt mức cần, kể cả "
                       "khi nâng anten thêm {m:.0f} m: cần trạm {tech} mới (xem kế hoạch "
                       "trạm)",
                       "No existing site within {km:g} km can reach the level needed, even "
                       "{m:.0f} m higher: a new {tech} site is needed (see the site plan)"),
    "ex_change_eirp": ("Hoặc tăng EIRP của cell {cell} thêm {db:.1f} dB",
                       "Or {db:.1f} dB more EIRP at cell {cell}"),
    "ex_sec_towers": ("Các trạm có thể phục vụ thôn", "Towers that could serve the village"),
    "ex_col_cell": ("Cell (trạm, nhà mạng)", "Cell (site, operator)"),
    "ex_col_role": ("Vai trò", "Role"),
    "ex_col_km": ("Khoảng cách (km)", "Distance (km)"),
    "ex_col_eirp": ("EIRP (dBm)", "EIRP (dBm)"),
    "ex_col_perre": ("Quy về 1 RE (dB)", "Per resource element (dB)"),
    "ex_col_gain": ("Độ lợi anten (dB)", "Antenna gain (dB)"),
    "ex_col_angles": ("Lệch hướng chính / dưới phương ngang",
                      "Off boresight / below horizon"),
    "ex_col_loss": ("Suy hao đường truyền (dB)", "Path loss (dB)"),
    "ex_col_rsrp": ("Mức thu (dBm)", "Level (dBm)"),
    "ex_col_margin": ("Chênh so với mức cần (dB)", "Margin to the level needed (dB)"),
    "ex_col_raise": ("Nâng anten cần", "Antenna raise needed"),
    "ex_correction": ("hiệu chỉnh", "correction"),
    "ex_clutter": ("vật che chắn", "clutter"),
    "ex_raise_no": ("> {m:.0f} m", "> {m:.0f} m"),
    "ex_role_best": ("phục vụ tốt nhất", "best server"),
    "ex_role_best_of_operator": ("tốt nhất của {operator}", "best of {operator}"),
    "ex_role_nearest_of_operator": ("trạm gần nhất của {operator}",
                                    "nearest site of {operator}"),
    "ex_budget_note": ("Mức thu = EIRP + quy về một phần tử tài nguyên (RE) + độ lợi anten − "
                       "suy hao đường truyền; độ lợi so với hướng chính của anten, theo góc "
                       "phương vị và góc dưới phương ngang tới pixel trung tâm; chênh = mức "
                       "thu − (ngưỡng + dự phòng vị trí).",
                       "Level = EIRP + per-resource-element offset + antenna gain − path "
                       "loss; the gain is relative to boresight, at the azimuth and angle "
                       "below the horizon of the centre pixel; margin = level − (threshold + "
                       "location margin)."),
    "ex_no_tower": ("Không có cell {tech} nào có bán kính tính toán ({km:g} km) tới thôn: "
                    "cần trạm mới (xem kế hoạch trạm).",
                    "No {tech} cell reaches the village (computation radius {km:g} km): a "
                    "new site is needed (see the site plan)."),
    "ex_sec_profiles": ("Mặt cắt địa hình", "Terrain profiles"),
    "ex_profile_none": ("Không vẽ được mặt cắt (DEM thiếu dữ liệu trên đường truyền).",
                        "No profile (DEM nodata on the path)."),
    "ex_profile_blocked": ("Địa hình che khuất tầm nhìn thẳng: vật cản ở {km:.2f} km, cao "
                           "hơn tia nhìn thẳng {h:.0f} m (bán kính Fresnel thứ nhất {r1:.1f} "
                           "m, ν = {nu:.2f}); vượt được nếu nâng anten +{clear:.0f} m.",
                           "The terrain blocks the line of sight: obstacle at {km:.2f} km, "
                           "{h:.0f} m above the line of sight (first Fresnel radius {r1:.1f} "
                           "m, ν = {nu:.2f}); +{clear:.0f} m of antenna height would clear "
                           "it."),
    "ex_profile_fresnel": ("Có tầm nhìn thẳng nhưng vùng Fresnel thứ nhất bị che: điểm ở "
                           "{km:.2f} km, {h:.1f} m so với tia nhìn thẳng (r1 = {r1:.1f} m, "
                           "ν = {nu:.2f}); thông thoáng nếu nâng anten +{clear:.0f} m.",
                           "Line of sight, but the first Fresnel zone is obstructed: point at "
                           "{km:.2f} km, {h:.1f} m from the line of sight (r1 = {r1:.1f} m, "
                           "ν = {nu:.2f}); +{clear:.0f} m of antenna height would clear it."),
    "ex_profile_clear": ("Có tầm nhìn thẳng, vùng Fresnel thứ nhất thông thoáng.",
                         "Line of sight with a clear first Fresnel zone."),
    "ex_profile_loss": ("Suy hao của mô hình trên mặt cắt này: {exact:.1f} dB (lần chạy: "
                        "{run:.1f} dB).",
                        "The model's loss over this profile: {exact:.1f} dB (the run: "
                        "{run:.1f} dB)."),
    "ex_sec_method": ("Phương pháp", "Method"),
    "ex_method": ("Các con số là của lần chạy: cùng cách tính suy hao, mô hình {model}, giản "
                  "đồ anten "
                  "và ngân sách đường truyền, tại pixel chứa điểm trung tâm. Mặt cắt là "
                  "đường thẳng từ anten tới tâm pixel, lấy mẫu theo bước DEM (nội suy song "
                  "tuyến), cộng độ cong Trái Đất d1·d2/(2·k·a) với k = {k:.2f} (ITU-R "
                  "P.526-15 §4.5.1); bán kính Fresnel thứ nhất √(λ·d1·d2/d) (§2.1); vật cản "
                  "là điểm có tham số nhiễu xạ ν lớn nhất (§4.1). Mức nâng anten là số mét "
                  "nguyên nhỏ nhất (tới {m:.0f} m) mà mức thu tại trung tâm đạt mức cần, "
                  "tính lại bằng cách tính của lần chạy với anten cao hơn.",
                  "The numbers are the run's: the same path-loss computation, model {model}, "
                  "antenna pattern and link budget, at the pixel holding the centre. The "
                  "profile is a straight line from the antenna to the pixel centre, sampled "
                  "at the DEM "
                  "spacing (bilinear), plus the earth bulge d1·d2/(2·k·a) with k = {k:.2f} "
                  "(ITU-R P.526-15 §4.5.1); the first Fresnel radius is √(λ·d1·d2/d) (§2.1); "
                  "the obstacle is the point of greatest diffraction parameter ν (§4.1). The "
                  "antenna raise is the smallest whole number of metres (up to {m:.0f} m) at "
                  "which the level at the centre reaches the level needed, computed with the "
                  "run's computation for the raised antenna."),
    "ex_method_itm": ("ITM dùng bán kính Trái Đất hiệu dụng của riêng nó (tính từ N_s); hệ "
                      "số k chỉ dùng để vẽ mặt cắt.",
                      "ITM uses its own effective earth radius (from N_s); the k-factor only "
                      "draws the profile."),
    "ex_fig_terrain": ("địa hình + độ cong Trái Đất (k = {k:.2f})",
                       "terrain + earth bulge (k = {k:.2f})"),
    "ex_fig_bulge": ("mặt đất (DEM, không cộng độ cong)", "ground (DEM, no bulge)"),
    "ex_fig_fresnel": ("vùng Fresnel thứ nhất", "first Fresnel zone"),
    "ex_fig_los": ("tia nhìn thẳng", "line of sight"),
    "ex_fig_obstacle": ("vật cản (ν = {nu:.2f})", "obstacle (ν = {nu:.2f})"),
    "ex_fig_x": ("khoảng cách từ anten (km)", "distance from the antenna (km)"),
    "ex_fig_y": ("độ cao (m)", "height (m)"),
    "ex_fig_title": ("{cell} ({site}) → {village}: {km:.2f} km, suy hao {loss:.1f} dB",
                     "{cell} ({site}) → {village}: {km:.2f} km, path loss {loss:.1f} dB"),
    "pop_why": ("Vì sao chưa có sóng", "Why not covered"),
    "pop_why_link": ("giải thích", "explanation"),
    "pop_why_cmd": ("tạo bằng", "made by"),
    "pop_why_folder": ("<thư mục này>", "<this folder>"),
    "uncovered_explain": ("Vì sao một thôn chưa có sóng (các trạm, ngân sách đường truyền, mặt "
                          "cắt địa hình, cách khắc phục): `vncoverage explain <mã thôn> --out "
                          "<thư mục này>` ghi explain/<mã thôn>/explain.html; mã thôn trong "
                          "bảng của báo cáo HTML dẫn tới tệp đó.",
                          "Why a village is not covered (towers, link budgets, terrain "
                          "profiles, what would change it): `vncoverage explain <village_id> "
                          "--out <this folder>` writes explain/<village_id>/explain.html; "
                          "the village ids of the HTML report's table link to it."),
})

# --- calibration to measurements (vncoverage.calibration, ``vncoverage calibrate``)
_NOTES.update({
    "calibration.applied": (
        "hiệu chỉnh theo đo kiểm từ {file} (tệp đo sha256 {sha}…, n = {n:,}, σ còn lại "
        "{sigma:.1f} dB, độ lệch chung {offset:+.2f} dB) được cộng vào EIRP của {cells:,} "
        "cell: {offsets:; }",
        "calibration corrections from {file} (measurement file sha256 {sha}…, n = {n:,}, "
        "residual σ {sigma:.1f} dB, global offset {offset:+.2f} dB) added to the EIRP of "
        "{cells:,} cell(s): {offsets:; }"),
    "calibration.dropped": (
        "{n:,} điểm đo bị bỏ qua ({reason}): các dòng {rows}",
        "{n:,} measurement(s) left out ({reason}): rows {rows}"),
    "calibration.uncorrected": (
        "calibrate so sánh với mô hình CHƯA hiệu chỉnh: [calibration] corrections = {file} "
        "không được dùng ở đây, để các hiệu chỉnh không bị cộng dồn",
        "calibrate compares with the UNcorrected model: [calibration] corrections = {file} "
        "is not applied here, so corrections never compound"),
})
# --- the calibration inside the run ([calibration] measurements): the report's section
_STRINGS.update({
    "sec_calibration": ("Hiệu chỉnh mô hình theo đo kiểm", "Calibration to measurements"),
    "cal_intro": (
        "Lần chạy tự hiệu chỉnh: các điểm đo được so với mô hình CHƯA hiệu chỉnh, độ lệch "
        "được cộng vào EIRP của các cell, và khoảng tin cậy dùng sai số còn lại. Chi tiết, "
        "biểu đồ và corrections.json: {link}.",
        "The run calibrated itself: the measurements were compared with the UNcorrected "
        "model, the fitted offsets added to the cells' EIRP, and the intervals use the "
        "residual errors. Details, plots and corrections.json: {link}."),
    "cal_file": ("Tệp đo kiểm", "measurement file"),
    "cal_points": ("Số điểm đo so sánh / số trạm", "measurements compared / sites"),
    "cal_global": ("Độ lệch chung (đo − dự báo) ± sai số chuẩn",
                   "global offset (measured − predicted) ± standard error"),
    "cal_sigma": ("σ còn lại sau hiệu chỉnh (phần theo trạm, phần theo điểm)",
                  "residual σ after the corrections (site part, point part)"),
    "cal_group": ("Độ lệch {group} ({n} điểm, {sites} trạm)",
                  "offset {group} ({n} points, {sites} sites)"),
    "cal_row_all": ("Mọi điểm đo (trong mẫu)", "all measurements (in-sample)"),
    "cal_row_held_out": ("Trạm giữ lại (kiểm chứng chéo {folds} phần theo trạm)",
                         "held-out sites (cross-validated, {folds} folds grouped by site)"),
    "col_residuals": ("Sai số (dB)", "residuals (dB)"),
    "col_n": ("n", "n"),
    "col_bias_before": ("Độ lệch trước", "bias before"),
    "col_bias_after": ("Độ lệch sau", "bias after"),
    "col_rmse_before": ("RMSE trước", "RMSE before"),
    "col_rmse_after": ("RMSE sau", "RMSE after"),
    "col_sigma_before": ("σ trước", "σ before"),
    "col_sigma_after": ("σ sau", "σ after"),
    "cal_before_after_note": (
        "Sai số = đo − dự báo (dB; dương: mô hình bi quan). Trước: mô hình chưa hiệu chỉnh; "
        "sau: đã cộng độ lệch (với trạm giữ lại: độ lệch ước lượng không dùng các trạm đó).",
        "Residual = measured − predicted (dB; positive: the model is pessimistic). Before: "
        "the uncorrected model; after: with the offsets (held-out sites: offsets fitted "
        "without those sites)."),
    "sens_uncalibrated": ("Mô hình chưa hiệu chỉnh (không cộng độ lệch đo kiểm)",
                          "uncalibrated model (without the measured offsets)"),
})
_NOTES.update({f"calibration.drop_{k}": v for k, v in {
    "outside": ("ngoài DEM (vùng nghiên cứu)", "outside the DEM (study area)"),
    "unknown_cell": ("cell_id không có trong bảng cell", "cell_id not in the cell table"),
    "not_computed": ("công nghệ không được tính ([radio] technologies)",
                     "technology not computed ([radio] technologies)"),
    "no_server": ("không cell nào của mạng đó phủ tới điểm (trong bán kính tính toán)",
                  "no cell of that network reaches the point (computation radius)"),
    "unknown_level": ("mức thu dự báo không xác định (DEM thiếu dữ liệu trên đường truyền)",
                      "predicted level unknown (DEM nodata on the path)"),
}.items()})

# --- 2G/3G switch-off ([run] switch_off; villages.service_only_through)
_NOTES.update({
    "inputs.switch_off": (
        "tắt sóng {tech}: {n:,} cell {tech} không được tính cho vùng phủ sau khi tắt sóng "
        "(lớp {tech} chỉ dùng để biết thôn nào hôm nay có sóng nhờ {tech})",
        "switch-off {tech}: {n:,} cells not used after the switch-off (their {tech} layer "
        "only tells which villages have service through {tech} today)"),
    "kpi.no_2g3g": (
        "không tính: lần chạy không tính lớp 2G/3G (thêm \"2G\", \"3G\" vào [radio] "
        "technologies)",
        "not computed: the run computes no 2G/3G layer (add \"2G\", \"3G\" to [radio] "
        "technologies)"),
    "kpi.detail_service": (
        "có sóng = có sóng ở một trong các công nghệ {techs} (mọi nhà mạng); {n:,} thôn, "
        "{people:,} người chỉ có sóng 2G/3G",
        "service = covered by any of {techs} (any operator); {n:,} villages, {people:,} "
        "people have service only through 2G/3G"),
})
_STRINGS.update({
    "sec_switch_off": ("Thôn mất sóng khi tắt {techs}", "Villages losing service at the "
                       "{techs} switch-off"),
    "summary_switch_off": (
        "Lần chạy này giả định tắt sóng {techs}: {n} thôn ({people} người) hôm nay chỉ có "
        "sóng nhờ {techs} sẽ mất sóng di động (switch_off_villages.csv).",
        "This run assumes the {techs} switch-off: {n} villages ({people} people) that have "
        "mobile service today only through {techs} lose it (switch_off_villages.csv)."),
    "switch_off_more": ("… và {n} thôn khác (xem switch_off_villages.csv).",
                        "… and {n} more villages (see switch_off_villages.csv)."),
    "status_no_2g3g": ("không tính (không có lớp 2G/3G)", "not computed (no 2G/3G layers)"),
})
_COLUMNS.update({
    "service_2g3g_only": ("Chỉ có sóng 2G/3G", "Service only through 2G/3G"),
    "verdict_service_any": ("Đánh giá sóng di động (mọi công nghệ)",
                            "Mobile service verdict (any technology)"),
    "technologies_today": ("Công nghệ hiện có", "Technologies today"),
    "operator_today": ("Nhà mạng phục vụ hiện nay", "Operator serving today"),
    "cell_today": ("Cell phục vụ hiện nay", "Serving cell today"),
    "nearest_4g_site_id": ("Trạm 4G gần nhất của nhà mạng", "Operator's nearest 4G site"),
    "nearest_4g_site_m": ("Khoảng cách tới trạm 4G đó (m)", "Distance to that 4G site (m)"),
})
# --- candidate works of the plan (vncoverage.plan.candidates)
_NOTES.update({
    "candidates.summary": (
        "{n:,} công trình ứng viên cho {villages:,} thôn chưa có sóng 4G/5G ({kinds:; }); "
        "{unknown:,} thôn chưa xác định được kết luận (tâm thôn ngoài DEM) không có ứng "
        "viên; bỏ {far:,} lắp đặt trên cột cách mọi thôn chưa có sóng quá {radius_km:g} "
        "km{tenant}",
        "{n:,} candidate works for {villages:,} villages without 4G/5G coverage "
        "({kinds:; }); {unknown:,} villages of unknown verdict (centre off the DEM) get "
        "none; {far:,} co-locations on towers beyond {radius_km:g} km of every village "
        "without coverage left out{tenant}"),
    "candidates.kind_count": ("{kind}: {n:,}", "{kind}: {n:,}"),
    "candidates.kind.upgrade": ("nâng cấp trạm 2G/3G của chính nhà mạng",
                                "upgrades of an operator's own 2G/3G site"),
    "candidates.kind.colocation": ("lắp đặt trên cột sẵn có (dùng chung)",
                                   "co-locations on an existing tower (shared)"),
    "candidates.kind.new_tower": ("cột mới ở điểm cao gần đường",
                                  "new towers on high points near a road"),
    "candidates.kind.village_tower": ("cột nhỏ tại trung tâm thôn",
                                      "small towers at a village centre"),
    "candidates.kind.user": ("do người dùng đề xuất", "user-supplied"),
    "candidates.tenant": (
        "; cột mới do công ty hạ tầng xây (chủ cột '{owner}'), lắp thiết bị của {operator} "
        "(nhà mạng đầu tiên trong [kpi] operators)",
        "; new towers are built by a tower company (tower owner '{owner}') and carry "
        "{operator}'s equipment (the first of [kpi] operators)"),
    "candidates.new_tower_rules": (
        "điểm đặt cột mới từ DEM: {points:,} điểm cao cục bộ và điểm sống núi; loại bỏ "
        "{nodata:,} điểm thiếu độ cao, {water:,} điểm trên mặt nước, {steep:,} điểm dốc hơn "
        "{slope:g}°, {far_road:,} điểm cách đường quá {road_m:g} m, {no_need:,} điểm ngoài "
        "tầm {radius_km:g} km của mọi thôn chưa có sóng, {thinned:,} điểm cách điểm cao hơn "
        "dưới {spacing_m:g} m, {capped:,} điểm vượt giới hạn {cap:,} (điểm số thấp nhất); "
        "còn {kept:,} điểm",
        "new-tower points from the DEM: {points:,} local high points and ridge points; "
        "dropped: {nodata:,} of unknown terrain, {water:,} on water, {steep:,} steeper than "
        "{slope:g}°, {far_road:,} farther than {road_m:g} m from a road, {no_need:,} beyond "
        "{radius_km:g} km of every village without coverage, {thinned:,} within "
        "{spacing_m:g} m of a higher point, {capped:,} beyond the cap of {cap:,} (lowest "
        "score); {kept:,} kept"),
    "candidates.no_roads": (
        "không có mạng lưới đường: không đề xuất cột mới ở điểm cao (cần đường để thi công "
        "và kéo điện); vẫn có cột nhỏ tại thôn",
        "no road network: no new tower is proposed on high points (a road is needed for "
        "access and power); village towers are still proposed"),
    "candidates.no_landcover": (
        "không có lớp phủ mặt đất: điểm đặt cột mới trên mặt nước không được loại bỏ",
        "no land cover: new-tower points on water are not excluded"),
    "candidates.user_other_operator": (
        "{file}: bỏ {n:,} ứng viên của nhà mạng khác {operator} ([plan] mode)",
        "{file}: {n:,} candidates of operators other than {operator} left out ([plan] "
        "mode)"),
})

# --- FTTH plan: cable along the roads to the target (vncoverage.plan.fibre_plan)
_NOTES.update({
    "plan.fibre_summary": (
        "Kế hoạch FTTH: {routes:,} tuyến cáp mới, {km:.1f} km dọc đường (mỗi thôn một tuyến "
        "riêng thì {alone_km:.1f} km), {splitters:,} điểm bộ chia mới, chi phí ước tính "
        "{bn:.2f} tỷ đồng; thôn có cáp quang FTTH {before:.1f} % → {after:.1f} % (mục tiêu "
        "{target:.0f} %)",
        "FTTH plan: {routes:,} new cable route(s), {km:.1f} km along the roads ({alone_km:.1f} "
        "km with one cable per village), {splitters:,} new splitter point(s), estimated cost "
        "{bn:.2f} billion VND; villages FTTH-covered {before:.1f} % → {after:.1f} % (target "
        "{target:.0f} %)"),
    "plan.fibre_short": (
        "không đạt mục tiêu FTTH {target:.0f} %: kế hoạch đạt {after:.1f} % ({covered:,} "
        "trong {total:,} thôn); {n:,} thôn không kéo cáp dọc đường tới được: {counts}",
        "the FTTH target of {target:.0f} % is out of reach: the plan gets to {after:.1f} % "
        "({covered:,} of {total:,} villages); {n:,} village(s) cannot be reached by cable "
        "along the roads: {counts}"),
    "plan.fibre_reason_count": ("{n:,} {reason}", "{n:,} {reason}"),
    "plan.fibre_reason_no_roads": ("không có dữ liệu đường", "no road data"),
    "plan.fibre_reason_offnetwork": (
        "ngoài mạng lưới đường (mọi điểm của thôn xa đường hơn khoảng cách bám đường)",
        "off the road network (every point of the village farther from a road than the snap "
        "distance)"),
    "plan.fibre_reason_not_coverable": (
        "không phủ được từ đường (nhà văn hoá xa đường hơn tầm cáp thuê bao, quá ít hộ gần "
        "đường)",
        "not coverable from the road (cultural house farther from the road than the drop "
        "reach, too few households near a road)"),
    "plan.fibre_reason_no_source": (
        "không có OLT trong tầm (dọc đường) và không bộ chia nào còn đủ cổng",
        "no OLT within reach along the roads and no splitter with enough free ports"),
    "plan.fibre_no_roads": (
        "không có dữ liệu đường: tuyến cáp chỉ được lập dọc theo đường, không lập kế hoạch FTTH",
        "no road data: cable routes are planned along the roads only, no FTTH plan made"),
    "plan.fibre_checked": (
        "đã kiểm tra: tính lại vùng phủ FTTH với các bộ chia của kế hoạch cho đúng kết quả "
        "dự kiến",
        "checked: recomputing FTTH reach with the plan's splitters gives the planned verdicts"),
    "plan.fibre_check": (
        "tính lại vùng phủ FTTH với các bộ chia của kế hoạch: {extra:,} thôn có thêm ngoài "
        "kế hoạch (cổng được giải phóng), {missed:,} thôn trong kế hoạch vẫn chưa có "
        "({missed_ids}), {lost:,} thôn mất cáp quang ({lost_ids})",
        "recomputing FTTH reach with the plan's splitters: {extra:,} village(s) covered "
        "beyond the plan (ports freed), {missed:,} planned village(s) still not covered "
        "({missed_ids}), {lost:,} village(s) no longer covered ({lost_ids})"),
})
