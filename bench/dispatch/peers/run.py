#!/usr/bin/env python3
"""VROOM, PyVRP and OR-Tools on VRPTW instances in Solomon's text format, under the budget
`bench-dispatch` gives our planner, for `make bench-dispatch`.

    run.py --instance FILE [--seconds N] [--solvers vroom,pyvrp,ortools]      JSON per solver
    run.py --all DIR --bks BKS.json [--seconds N] [--out FILE]                 table + JSON

All three take whole numbers, so distances and times are scaled by 1000 and rounded for them
(as vroom-scripts does); the distance reported is recomputed from each route's visits with
unrounded Euclidean distances, the way the best-known solutions and our planner count it.
Each minimises total travel (distance = time here) with the instance's fleet; threads: 2.
"""

import argparse
import json
import math
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

SCALE = 1000


def parse(path):
    """(name, vehicles, capacity, rows) with rows [id, x, y, demand, ready, due, service]."""
    lines = [l.split() for l in Path(path).read_text().splitlines() if l.strip()]
    name = lines[0][0]
    numeric = []
    for parts in lines[1:]:
        try:
            numeric.append([float(p) for p in parts])
        except ValueError:
            continue  # headings
    fleet = next(r for r in numeric if len(r) == 2)
    rows = [r for r in numeric if len(r) == 7]
    return name, int(fleet[0]), int(fleet[1]), rows


def euclid(rows):
    return [[math.hypot(a[1] - b[1], a[2] - b[2]) for b in rows] for a in rows]


def scaled(matrix):
    return [[round(v * SCALE) for v in row] for row in matrix]


def solve_vroom(vehicles, capacity, rows, seconds):
    import vroom

    d = scaled(euclid(rows))
    problem = vroom.Input()
    problem.set_durations_matrix("car", d)
    depot = rows[0]
    problem.add_vehicle(
        [
            vroom.Vehicle(
                k + 1,
                start=0,
                end=0,
                capacity=[capacity],
                time_window=vroom.TimeWindow(round(depot[4] * SCALE), round(depot[5] * SCALE)),
            )
            for k in range(vehicles)
        ]
    )
    problem.add_job(
        [
            vroom.Job(
                i,
                location=i,
                default_service=round(r[6] * SCALE),
                delivery=[int(r[3])],
                time_windows=[vroom.TimeWindow(round(r[4] * SCALE), round(r[5] * SCALE))],
            )
            for i, r in enumerate(rows)
            if i > 0
        ]
    )
    solution = problem.solve(exploration_level=5, nb_threads=2, timeout=timedelta(seconds=seconds))
    routes = []
    for route in solution.to_dict().get("routes", []):
        routes.append([s["location_index"] for s in route["steps"] if s["type"] == "job"])
    return routes


def solve_pyvrp(vehicles, capacity, rows, seconds):
    from pyvrp import Model
    from pyvrp.stop import MaxRuntime

    d = scaled(euclid(rows))
    m = Model()
    depot_row = rows[0]
    depot = m.add_depot(
        m.add_location(x=round(depot_row[1] * SCALE), y=round(depot_row[2] * SCALE)),
        tw_early=round(depot_row[4] * SCALE),
        tw_late=round(depot_row[5] * SCALE),
    )
    m.add_vehicle_type(
        num_available=vehicles,
        capacity=capacity,
        start_depot=depot,
        end_depot=depot,
        tw_early=round(depot_row[4] * SCALE),
        tw_late=round(depot_row[5] * SCALE),
    )
    for r in rows[1:]:
        m.add_client(
            m.add_location(x=round(r[1] * SCALE), y=round(r[2] * SCALE)),
            delivery=int(r[3]),
            service_duration=round(r[6] * SCALE),
            tw_early=round(r[4] * SCALE),
            tw_late=round(r[5] * SCALE),
        )
    locations = m.locations
    for i, frm in enumerate(locations):
        for j, to in enumerate(locations):
            m.add_edge(frm, to, distance=d[i][j], duration=d[i][j])
    result = m.solve(stop=MaxRuntime(seconds), display=False, collect_stats=False)
    if not result.best.is_feasible():
        return None
    # A client activity's index counts the clients in the order added: Solomon's numbering
    # less one. Checked against PyVRP's own count of each route's distance.
    routes = []
    for route in result.best.routes():
        visits = [a.idx + 1 for a in route if a.is_client()]
        exact = sum(d[a][b] for a, b in zip([0] + visits, visits + [0]))
        if abs(exact - route.distance()) > len(visits) + 1:
            raise RuntimeError(f"PyVRP route read wrongly: {exact} vs {route.distance()}")
        routes.append(visits)
    return routes


def solve_ortools(vehicles, capacity, rows, seconds):
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    d = scaled(euclid(rows))
    n = len(rows)
    service = [round(r[6] * SCALE) for r in rows]
    manager = pywrapcp.RoutingIndexManager(n, vehicles, 0)
    routing = pywrapcp.RoutingModel(manager)

    def distance(i, j):
        return d[manager.IndexToNode(i)][manager.IndexToNode(j)]

    def travel(i, j):
        a, b = manager.IndexToNode(i), manager.IndexToNode(j)
        return service[a] + d[a][b]

    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitCallback(distance))
    demand = routing.RegisterUnaryTransitCallback(lambda i: int(rows[manager.IndexToNode(i)][3]))
    routing.AddDimensionWithVehicleCapacity(demand, 0, [capacity] * vehicles, True, "load")
    horizon = round(rows[0][5] * SCALE)
    routing.AddDimension(routing.RegisterTransitCallback(travel), horizon, horizon, False, "time")
    time_dim = routing.GetDimensionOrDie("time")
    for node in range(1, n):
        time_dim.CumulVar(manager.NodeToIndex(node)).SetRange(
            round(rows[node][4] * SCALE), round(rows[node][5] * SCALE)
        )
    for k in range(vehicles):
        time_dim.CumulVar(routing.Start(k)).SetRange(round(rows[0][4] * SCALE), horizon)
        time_dim.CumulVar(routing.End(k)).SetRange(round(rows[0][4] * SCALE), horizon)
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    params.time_limit.FromSeconds(seconds)
    solution = routing.SolveWithParameters(params)
    if solution is None:
        return None
    routes = []
    for k in range(vehicles):
        index, route = solution.Value(routing.NextVar(routing.Start(k))), []
        while not routing.IsEnd(index):
            route.append(manager.IndexToNode(index))
            index = solution.Value(routing.NextVar(index))
        if route:
            routes.append(route)
    return routes


SOLVERS = {"vroom": solve_vroom, "pyvrp": solve_pyvrp, "ortools": solve_ortools}


def run(solver, path, seconds, bks):
    name, vehicles, capacity, rows = parse(path)
    started = time.perf_counter()
    routes = SOLVERS[solver](vehicles, capacity, rows, seconds)
    elapsed = time.perf_counter() - started
    exact = euclid(rows)
    routes = [r for r in (routes or []) if r]
    distance = sum(
        sum(exact[a][b] for a, b in zip([0] + r, r + [0])) for r in routes
    )
    served = sum(len(r) for r in routes)
    known = bks.get(f"{name}_distance", {})
    best = known.get("best_known_cost")
    unserved = len(rows) - 1 - served
    return {
        "solver": solver,
        "instance": name,
        "class": name.rstrip("0123456789") + name.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")[:1],
        "vehicles_used": len(routes),
        "unserved": unserved,
        "distance": distance,
        "seconds": elapsed,
        "best_known_distance": best,
        "best_known_vehicles": known.get("solved_with_vehicles"),
        # A plan that leaves customers out is not comparable on distance.
        "gap_percent": (distance / best - 1) * 100 if best and unserved == 0 else None,
    }


def table(outcomes):
    print("| solver | class | instances | gap median | gap mean | gap worst | best known matched | vehicles (ours / best known) | unserved | s per instance |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for solver in dict.fromkeys(o["solver"] for o in outcomes):
        mine = [o for o in outcomes if o["solver"] == solver]
        groups = {}
        for o in mine:
            groups.setdefault(o["class"], []).append(o)
        groups["all"] = mine
        for cls in sorted(groups, key=lambda c: (c == "all", c)):
            group = groups[cls]
            gaps = [o["gap_percent"] for o in group if o["gap_percent"] is not None]
            median = statistics.median(gaps) if gaps else float("nan")
            mean = statistics.fmean(gaps) if gaps else float("nan")
            worst = max(gaps) if gaps else float("nan")
            matched = sum(1 for g in gaps if g <= 0.005)
            ours = sum(o["vehicles_used"] for o in group)
            known = sum(o["best_known_vehicles"] or 0 for o in group)
            unserved = sum(o["unserved"] for o in group)
            seconds = statistics.fmean(o["seconds"] for o in group)
            print(
                f"| {solver} | {cls} | {len(group)} | {median:+.2f} % | {mean:+.2f} % | {worst:+.2f} % "
                f"| {matched} | {ours} / {known} | {unserved} | {seconds:.2f} |"
            )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instance")
    parser.add_argument("--all")
    parser.add_argument("--bks")
    parser.add_argument("--seconds", type=int, default=2)
    parser.add_argument("--solvers", default="vroom,pyvrp,ortools")
    parser.add_argument("--out", default="target/bench/dispatch-peers.json")
    args = parser.parse_args()
    bks = json.loads(Path(args.bks).read_text()) if args.bks else {}
    solvers = [s for s in args.solvers.split(",") if s]
    unknown = [s for s in solvers if s not in SOLVERS]
    if unknown:
        parser.error(f"unknown solver(s) {unknown}: {sorted(SOLVERS)}")
    if args.instance:
        print(json.dumps([run(s, args.instance, args.seconds, bks) for s in solvers], indent=1))
        return 0
    if not args.all:
        parser.error("--instance FILE or --all DIR")
    files = sorted(Path(args.all).glob("*.txt"))
    outcomes = []
    for solver in solvers:
        for path in files:
            o = run(solver, path, args.seconds, bks)
            gap = o["gap_percent"]
            print(
                f"{solver:>8} {o['instance']:>6} {o['vehicles_used']:>2} vehicles {o['distance']:>9.2f} "
                f"gap {gap if gap is not None else float('nan'):+6.2f} % {o['seconds']:.2f} s",
                file=sys.stderr,
            )
            outcomes.append(o)
    table(outcomes)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(outcomes, indent=1))
    print(f"results: {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
