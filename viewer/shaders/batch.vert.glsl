#version 330
// Batch meshes: positions per mesh, one linear albedo per vertex shared by all (the material
// baked to vertices); flat normals come from screen-space derivatives.
in vec3 in_position;
in vec3 in_albedo;
uniform mat4 view;
uniform mat4 projection;
out vec3 v_position;
out vec3 v_albedo;

void main() {
    vec4 position = view * vec4(in_position, 1.0);
    v_position = position.xyz;
    v_albedo = in_albedo;
    gl_Position = projection * position;
}
