"""The robust statistics the soaks use: the median, and the Theil-Sen slope built on it."""


def median(values):
    """The middle of the values; for an even count the upper of the two middle ones, so the
    result is always one of the values (ints stay ints)."""
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def theil_sen_slope(points):
    """Median of pairwise slopes of (x, y) points: robust to the odd spike (units of y per unit
    of x); 0.0 with fewer than two distinct x."""
    if len(points) > 120:  # thin out: pairwise is quadratic
        step = len(points) / 120.0
        points = [points[int(i * step)] for i in range(120)]
    slopes = []
    for i in range(len(points)):
        for j in range(i + 1, len(points)):
            dx = points[j][0] - points[i][0]
            if dx > 0:
                slopes.append((points[j][1] - points[i][1]) / dx)
    return median(slopes) if slopes else 0.0
