# -*- coding: utf-8 -*-
# Copyright (c) 2026, kfuse.failover contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's bucket layout for az-service state (the real service's layout is not public).

``<zone>/segments/<table>/<segment>`` holds Pinot segment objects and
``<zone>/postgres/<db>/<UTC yyyymmddTHHMMSSZ>.dump`` holds database dumps. Every call is blocking (boto3);
the state machine runs them in worker threads.
"""

import datetime

import boto3
from botocore.config import Config

DUMP_TIME_FORMAT = "%Y%m%dT%H%M%SZ"
DUMP_SUFFIX = ".dump"


def make_s3_client(endpoint, region):
    """boto3 S3 client for the lab; credentials come from the AWS_* environment."""
    config = Config(retries={"max_attempts": 3, "mode": "standard"}, s3={"addressing_style": "path"})
    return boto3.client("s3", endpoint_url=endpoint, region_name=region, config=config)


class ZoneStore:
    """Reads and writes one bucket with the lab layout."""

    def __init__(self, client, bucket):
        self.client = client
        self.bucket = bucket

    @staticmethod
    def segment_key(zone, relative):
        return "%s/segments/%s" % (zone, relative)

    @staticmethod
    def dump_key(zone, database, moment):
        return "%s/postgres/%s/%s%s" % (zone, database, moment.strftime(DUMP_TIME_FORMAT), DUMP_SUFFIX)

    def _keys(self, prefix):
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for item in page.get("Contents", ()):
                yield item["Key"]

    def put(self, key, body):
        self.client.put_object(Bucket=self.bucket, Key=key, Body=body)

    def read(self, key):
        return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def list_segments(self, zone):
        """Segment names relative to the zone's segment prefix (``<table>/<segment>``)."""
        prefix = "%s/segments/" % zone
        return sorted(key[len(prefix):] for key in self._keys(prefix))

    def list_dumps(self, zone, database):
        """[(time, key)] of the database's dumps, oldest first; objects with other names are ignored."""
        prefix = "%s/postgres/%s/" % (zone, database)
        dumps = []
        for key in self._keys(prefix):
            name = key[len(prefix):]
            if not name.endswith(DUMP_SUFFIX):
                continue
            try:
                moment = datetime.datetime.strptime(name[:-len(DUMP_SUFFIX)], DUMP_TIME_FORMAT)
            except ValueError:
                continue
            dumps.append((moment.replace(tzinfo=datetime.timezone.utc), key))
        return sorted(dumps)

    def newest_dump(self, zone, database, not_after):
        """Key of the newest dump not newer than not_after, or None."""
        eligible = [key for moment, key in self.list_dumps(zone, database) if moment <= not_after]
        return eligible[-1] if eligible else None

    def copy_segment(self, source_zone, target_zone, relative):
        self.client.copy_object(
            Bucket=self.bucket,
            Key=self.segment_key(target_zone, relative),
            CopySource={"Bucket": self.bucket, "Key": self.segment_key(source_zone, relative)},
        )

    def delete_zone(self, zone):
        keys = list(self._keys(zone + "/"))
        for start in range(0, len(keys), 1000):
            chunk = [{"Key": key} for key in keys[start:start + 1000]]
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": chunk, "Quiet": True})
        return len(keys)
