"""Inventory of the fleet for the weekly capacity review."""
import csv
import sys

import boto3

ec2 = boto3.client("ec2")


def main() -> None:
    out = csv.writer(sys.stdout)
    for page in ec2.get_paginator("describe_instances").paginate():
        for reservation in page["Reservations"]:
            for inst in reservation["Instances"]:
                out.writerow([inst["InstanceId"], inst["InstanceType"]])
