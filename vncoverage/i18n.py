"""Planner-facing strings in Vietnamese (default) and English: one table for the map, the
report and the exports.

Every user-visible label goes through :func:`tr` (messages), :func:`verdict_label`
(per-village verdicts), :func:`ftth_reason_label` (why a village has no FTTH or a splitter
is not usable: the codes of :mod:`vncoverage.fibre`) or :func:`column_label` (table headers
of the CSV / Excel exports).
Values that come from input files (names, ids) are never translated, only escaped where
they are rendered.
"""

from __future__ import annotations

import functools
import string
from typing import Any, Final

__all__ = [
    "DEFAULT_LANG",
    "LANGS",
    "check_lang",
    "column_label",
    "ftth_reason_label",
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
    "prov_config": ("Tệp cấu hình: {path}.", "Configuration: {path}."),
    "prov_defaults": ("Cấu hình: mặc định.", "Configuration: defaults."),
    "prov_timings": ("Thời gian các bước (giây): {timings}.", "Stage timings (s): {timings}."),
    "prov_version": ("Phiên bản", "Version"),
    "prov_generated": ("Ngày lập", "Generated"),
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
