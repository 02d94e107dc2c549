#version 330
// Batch meshes: positions per mesh; with SKIN, one linear albedo per vertex shared by all (the
// material baked to vertices). Flat normals come from screen-space derivatives.
in vec3 in_position;
uniform mat4 view;
uniform mat4 projection;
out vec3 v_position;
#ifdef SKIN
in vec3 in_albedo;
out vec3 v_albedo;
#endif

void main() {
    vec4 position = view * vec4(in_position, 1.0);
    v_position = position.xyz;
#ifdef SKIN
    v_albedo = in_albedo;
#endif
    gl_Position = projection * position;
}
