"""``LocalVolume``: a real volume for the database when the sandbox runs on the embedded real node.

kwok's default StorageClass (``kwok-volume``) "provisions" a ``hostPath`` PersistentVolume
whose directory the kubelet creates as root 0755 (``DirectoryOrCreate``) and never deletes:
a non-root PostgreSQL (Pod Security restricted, uid 999) cannot create ``PGDATA`` there,
``fsGroup`` does not apply to ``hostPath``, and the data outlives the sandbox.

On the real node (same machine as the Pulumi program, which runs as root there) the
database instead gets:

- a directory ``<dir>/<name>`` owned by the database's uid/gid, mode 0700, made and removed
  by a dynamic resource (``destroy`` removes the data with the sandbox);
- a ``local`` PersistentVolume on it (``fsGroup`` applies to ``local`` volumes), with node
  affinity to the node selector, ``Retain`` (nothing in the cluster deletes local volumes)
  and pre-bound (``claimRef``) to the StatefulSet's claim, in a StorageClass name
  (``sandboxes-local``) no provisioner serves, so kwok's stages leave it alone.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi.dynamic
import pulumi_kubernetes as k8s

__all__ = ["LOCAL_STORAGE_CLASS", "HostDirectory", "LocalVolume", "LocalVolumeArgs", "local_volume_spec"]

LOCAL_STORAGE_CLASS = "sandboxes-local"


class _HostDirectoryProvider(pulumi.dynamic.ResourceProvider):
    """Creates/removes one directory on this machine (stdlib only: runs in Pulumi's dynamic provider)."""

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        import os

        path = props["path"]
        os.makedirs(path, mode=0o700, exist_ok=True)
        os.chown(path, int(props["uid"]), int(props["gid"]))
        os.chmod(path, 0o700)
        return pulumi.dynamic.CreateResult(id_=path, outs=dict(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.DiffResult:
        keys = ("path", "uid", "gid")
        changed = [k for k in keys if str(olds.get(k)) != str(news.get(k))]
        return pulumi.dynamic.DiffResult(changes=bool(changed), replaces=changed, delete_before_replace=True)

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        import os

        # Gone (the node's directory was removed with its cluster): an empty id tells a refresh so,
        # and the next up makes the directory again instead of binding a volume to nothing.
        return pulumi.dynamic.ReadResult(id_=id_ if os.path.isdir(props["path"]) else "", outs=props)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        import shutil

        shutil.rmtree(props["path"], ignore_errors=True)


class HostDirectory(pulumi.dynamic.Resource):
    path: pulumi.Output[str]

    def __init__(self, name: str, path: str, uid: int, gid: int, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(_HostDirectoryProvider(), name, {"path": path, "uid": uid, "gid": gid}, opts)


def local_volume_spec(
    *, path: str, size: str, node_selector: dict[str, str], namespace: str, claim: str
) -> dict[str, Any]:
    """The PersistentVolume's ``spec``; pure so a test can check it without a cluster."""
    return {
        "capacity": {"storage": size},
        "accessModes": ["ReadWriteOnce"],
        "volumeMode": "Filesystem",
        "persistentVolumeReclaimPolicy": "Retain",
        "storageClassName": LOCAL_STORAGE_CLASS,
        "claimRef": {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": namespace, "name": claim},
        "local": {"path": path},
        "nodeAffinity": {
            "required": {
                "nodeSelectorTerms": [
                    {
                        "matchExpressions": [
                            {"key": key, "operator": "In", "values": [value]}
                            for key, value in sorted(node_selector.items())
                        ]
                    }
                ]
            }
        },
    }


class LocalVolumeArgs:
    def __init__(self, *, name: str, directory: str, size: str, uid: int, node_selector: dict[str, str],
                 namespace: str, claim: str, labels: dict[str, str], annotations: dict[str, str]) -> None:
        self.name, self.directory, self.size, self.uid = name, directory, size, uid
        self.node_selector, self.namespace, self.claim, self.labels = node_selector, namespace, claim, labels
        self.annotations = annotations


class LocalVolume(pulumi.ComponentResource):
    """The directory plus the ``local`` PersistentVolume pre-bound to one claim."""

    volume: k8s.core.v1.PersistentVolume

    def __init__(self, name: str, args: LocalVolumeArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("sandboxes:index:LocalVolume", name, None, opts)
        path = f"{args.directory.rstrip('/')}/{args.name}"
        directory = HostDirectory(f"{name}-dir", path, args.uid, args.uid,
                                  pulumi.ResourceOptions(parent=self))
        self.volume = k8s.core.v1.PersistentVolume(
            f"{name}-pv",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=args.name, labels=args.labels, annotations=args.annotations),
            spec=local_volume_spec(path=path, size=args.size, node_selector=args.node_selector,
                                   namespace=args.namespace, claim=args.claim),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[directory]),
        )
        self.register_outputs({})
