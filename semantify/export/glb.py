"""One mesh as a GLB: positions, smooth normals, the material (texture through the UV map, or
a colour), and optionally a :class:`~semantify.export.rig.Rig` and
:class:`~semantify.export.shape_keys.ShapeKeys`.

A textured GLB repeats the vertices on texture seams (glTF has one texture coordinate per
vertex); every per-vertex array (normals, weights, shape keys) is copied along, so the normals
stay smooth across seams.

Morph targets: the shape keys first (default weight 0), then a rig's pose correctives
(``pose_correctives_<pose>``, default weight 1: the joints stand in that pose, and skinning
rest + correctives gives the model's posed body; weight 0 is the bind pose), all on the one
primitive, named in the mesh's ``extras.targetNames``. With correctives, the pose's one-frame
animation holds the weights at those defaults (glTF animates every target's weight at once).
"""

from __future__ import annotations

import io

import numpy as np

from semantify.export.gltf import ELEMENT_ARRAY_BUFFER, UINT16, UINT32, GlbWriter, rigid_parts


def glb_bytes(vertices: np.ndarray, faces: np.ndarray, normals: np.ndarray, uv_map=None,
              material=None, rig=None, shape_keys=None) -> bytes:
    """(V, 3) float32 ``vertices`` and unit ``normals``, (F, 3) ``faces`` -> GLB bytes."""
    writer = GlbWriter()
    source, uv, faces = _layout(faces, uv_map, material)
    attributes = {"POSITION": writer.accessor(vertices[source], "VEC3", bounds=True),
                  "NORMAL": writer.accessor(normals[source], "VEC3")}
    primitive = {"attributes": attributes, "mode": 4,
                 "indices": writer.accessor(faces.reshape(-1), "SCALAR", UINT32,
                                            ELEMENT_ARRAY_BUFFER)}
    if uv is not None:
        attributes["TEXCOORD_0"] = writer.accessor(uv, "VEC2")
    if material is not None:
        primitive["material"] = _material(writer, material, uv is not None)
    mesh = {"name": "shape", "primitives": [primitive]}
    names, targets, weights = [], [], []
    if shape_keys is not None:
        names, targets = list(shape_keys.names), list(shape_keys.offsets)
        weights = [0.0] * len(names)
        mesh["extras"] = shape_keys.extras()
    if rig is not None and rig.correctives is not None:
        names, targets, weights = (names + [rig.corrective_name], targets + [rig.correctives],
                                   weights + [1.0])
    if targets:
        primitive["targets"] = [{"POSITION": writer.accessor(offsets[source], "VEC3",
                                                             bounds=True)}
                                for offsets in targets]
        mesh["weights"] = weights
        mesh["extras"] = {**mesh.get("extras", {}), "targetNames": names}
    node = {"name": "shape", "mesh": writer.add("meshes", mesh)}
    shape_node = writer.add("nodes", node)
    writer.document["scenes"][0]["nodes"].append(shape_node)
    if rig is not None:
        node["skin"] = _skin(writer, rig, attributes, source,
                             (shape_node, weights) if rig.correctives is not None else None)
    return writer.bytes()


def _layout(faces, uv_map, material):
    """(source (U,) vertex each GLB vertex copies, (U, 2) glTF texture coordinates or None,
    (F, 3) faces into the GLB vertices)."""
    if material is None or material.texture is None or uv_map is None:
        return np.arange(int(faces.max()) + 1), None, faces
    from viewer import UVLayout

    layout = UVLayout.from_corners(faces, uv_map.coords, uv_map.faces)
    flipped = np.stack([layout.uv[:, 0], 1.0 - layout.uv[:, 1]], axis=1)  # glTF: v down
    return layout.source, flipped, layout.faces.astype(np.int64)


def _material(writer: GlbWriter, material, textured: bool) -> int:
    from PIL import Image

    from viewer.lighting import srgb_to_linear

    pbr = {"metallicFactor": 0.0, "roughnessFactor": float(material.roughness)}
    if textured:
        png = io.BytesIO()
        Image.fromarray(np.ascontiguousarray(np.asarray(material.texture)[..., :3])).save(
            png, format="PNG")
        pbr["baseColorTexture"] = {"index": writer.image(png.getvalue())}
    else:
        pbr["baseColorFactor"] = [*map(float, srgb_to_linear(material.albedo)), 1.0]
    return writer.add("materials", {"name": material.name, "pbrMetallicRoughness": pbr})


def _skin(writer: GlbWriter, rig, attributes: dict, source: np.ndarray, morph=None) -> int:
    """Joint nodes standing in the rig's pose, the skin, the weights and the pose's animation
    (with ``morph``, (the mesh's node, its morph weights), also holding those weights)."""
    first = len(writer.document["nodes"])
    posed = rig.local(rig.posed)
    for bone, name in enumerate(rig.names):
        translation, rotation = rigid_parts(posed[bone])
        node = {"name": name, "translation": translation, "rotation": rotation}
        children = [first + child for child, parent in enumerate(rig.parents) if parent == bone]
        if children:
            node["children"] = children
        writer.add("nodes", node)
    writer.document["scenes"][0]["nodes"] += [first + root for root in rig.roots]
    for index in range(rig.weights.shape[1] // 4):
        columns = slice(4 * index, 4 * index + 4)
        attributes[f"JOINTS_{index}"] = writer.accessor(rig.joints[source, columns], "VEC4",
                                                        UINT16)
        attributes[f"WEIGHTS_{index}"] = writer.accessor(rig.weights[source, columns], "VEC4")
    skin = {"name": "skeleton", "joints": [first + bone for bone in range(len(rig.names))],
            "skeleton": first + rig.roots[0],
            "inverseBindMatrices": writer.accessor(np.linalg.inv(rig.rest), "MAT4",
                                                   target=None),
            "extras": {"bind_pose": "rest", "pose": rig.pose,
                       "bones_per_vertex": int(rig.weights.shape[1]),
                       "skin_weights": rig.fit.extras(),
                       "pose_deviation_mm": {"mean": round(rig.deviation_mm[0], 3),
                                             "max": round(rig.deviation_mm[1], 3)}}}
    if rig.correctives is not None:
        skin["extras"]["pose_correctives"] = {
            "target": rig.corrective_name, "weight": 1.0,
            "meaning": "rest-space vertex offsets the model adds in this pose before skinning "
                       "(pose blend shapes); at weight 1 (the mesh's default and the pose "
                       "animation's) the joints skin the model's posed body, at weight 0 the "
                       "mesh is the bind (rest) pose"}
    if rig.pose != "rest":
        _animation(writer, rig.pose, first, posed, morph)
    return writer.add("skins", skin)


def _animation(writer: GlbWriter, name: str, first: int, posed, morph=None) -> None:
    """A one-frame animation ``name`` holding the joints' pose (rotations and translations)
    and, with ``morph`` (node, weights), that node's morph weights."""
    time = writer.accessor(np.zeros(1), "SCALAR", target=None, bounds=True)
    samplers, channels = [], []
    for bone in range(len(posed)):
        translation, rotation = rigid_parts(posed[bone])
        for path, value, kind in (("translation", translation, "VEC3"),
                                  ("rotation", rotation, "VEC4")):
            output = writer.accessor(np.asarray([value]), kind, target=None)
            channels.append({"sampler": len(samplers),
                             "target": {"node": first + bone, "path": path}})
            samplers.append({"input": time, "output": output, "interpolation": "STEP"})
    if morph is not None:
        node, weights = morph
        output = writer.accessor(np.asarray(weights), "SCALAR", target=None)
        channels.append({"sampler": len(samplers), "target": {"node": node, "path": "weights"}})
        samplers.append({"input": time, "output": output, "interpolation": "STEP"})
    writer.add("animations", {"name": name, "samplers": samplers, "channels": channels})
