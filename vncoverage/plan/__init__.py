"""Site and fibre planning (``vncoverage plan``): what it takes to reach the 2025 targets.

* :mod:`.costs` - the cost table (shipped ``plan_costs.csv``, user override);
* :mod:`.candidates` - candidate works: 4G upgrades of own sites, co-location on existing
  towers, new towers on high points near roads, a small tower in an uncovered village,
  user-supplied candidates; their cells with the site-level defaults;
* :mod:`.matrix` - which village points each candidate brings to "covered", with the run's
  engine and verdict rule;
* :mod:`.solve` - the mixed-integer programme (HiGHS through ``scipy.optimize.milp``) and
  the greedy baseline;
* :mod:`.fibre_plan` - cable routes along the roads to reach the FTTH target;
* :mod:`.run` - the orchestration of a plan on a run's results.
"""
