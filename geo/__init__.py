"""Model the city's administrative geography: units, demo city, point lookup and map LOD."""

from geo.demo_city import DemoCitySpec, generate_demo_city
from geo.hierarchy import Hierarchy, HierarchyError, Level, Unit
from geo.lod import level_feature_collection
from geo.lookup import GridLocator
from geo.sampling import random_points_in

__all__ = [
    "DemoCitySpec",
    "GridLocator",
    "Hierarchy",
    "HierarchyError",
    "Level",
    "Unit",
    "generate_demo_city",
    "level_feature_collection",
    "random_points_in",
]
