/**
 * The adapter self-check run when the WebGPU backend starts. Some drivers stop a shader silently
 * after a fixed number of loop iterations (Mesa 22's llvmpipe behind Dawn's OpenGL ES backend stops
 * at 65,535 in total), which would make long reductions, scans and matrix products wrong without
 * an error. One invocation counts to a bound read from memory (so no compiler can fold the loop);
 * an adapter that returns a short count is not used.
 */

/** Iterations the check asks for: past the 65,535 at which the broken drivers stop. */
export const SELF_CHECK_ITERATIONS = 70_000;

const SOURCE = `
@group(0) @binding(0) var<storage, read_write> cell: array<u32, 2>;
@compute @workgroup_size(1)
fn main() {
  let bound = cell[0];
  var n = 0u;
  for (var i = 0u; i < bound; i = i + 1u) {
    n = n + cell[1];
  }
  cell[0] = n;
}`;

/** How many iterations the adapter's loop really ran (SELF_CHECK_ITERATIONS when it is sound). */
export async function countLoopIterations(device: GPUDevice): Promise<number> {
  const cell = device.createBuffer({ size: 8, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC, mappedAtCreation: true });
  new Uint32Array(cell.getMappedRange()).set([SELF_CHECK_ITERATIONS, 1]);
  cell.unmap();
  const read = device.createBuffer({ size: 8, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  try {
    const pipeline = device.createComputePipeline({
      layout: "auto",
      compute: { module: device.createShaderModule({ code: SOURCE }), entryPoint: "main" },
    });
    const group = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: cell } }] });
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(1);
    pass.end();
    enc.copyBufferToBuffer(cell, 0, read, 0, 8);
    device.queue.submit([enc.finish()]);
    // Dawn in Node does not hold the event loop open while a map is pending; a timer does.
    const keepAlive = setInterval(() => {}, 1000);
    try {
      await read.mapAsync(GPUMapMode.READ);
    } finally {
      clearInterval(keepAlive);
    }
    return new Uint32Array(read.getMappedRange())[0]!;
  } finally {
    cell.destroy();
    read.destroy();
  }
}

/** The warning for an adapter that failed the check, naming its driver and what to do. */
export function selfCheckWarning(adapter: string, count: number): string {
  return (
    `fluxion: the WebGPU adapter "${adapter}" ran a ${SELF_CHECK_ITERATIONS.toLocaleString("en-US")}-iteration shader loop only ` +
    `${count.toLocaleString("en-US")} times (a driver limit that would make long reductions wrong), so it is not used; ` +
    `devices() lists the cpu only. Install a current Vulkan driver (e.g. Mesa's lavapipe) or update Mesa.`
  );
}

/** Whether the adapter's names mark it as a CPU (software) implementation, on any backend. */
export function isSoftwareAdapter(
  info: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean } | undefined,
): boolean {
  if (info === undefined) return false;
  if (info.isFallbackAdapter === true || info.architecture === "software") return true;
  return /llvmpipe|lavapipe|softpipe|swiftshader/i.test(`${info.vendor ?? ""} ${info.device ?? ""} ${info.description ?? ""}`);
}
